"""What a load is made from: the identity that decides whether stored records can be reused.

A load's records depend on the source files, the trial config, the CTCAE dictionary and lab
criteria that validated and graded them, and the code that did it. All of these are fingerprinted
and hashed together; a change to any one makes a new load. Nothing is recognised by name or
date alone: a dictionary re-imported under the same version, or a toolkit changed without a
new version number, is a different load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from ctcae.home import data_path
from ctcae.terms import CtcaeDictionary
from trial.config import TrialConfig
from trial.errors import InputError

# The packages whose code turns source files into stored records: reading, validation, readings,
# CTCAE matching and grading, the store's layout. Their source text is part of a load's identity.
LOADING_PACKAGES = ("validators", "readers", "ctcae", "safetydb", "trial")


@dataclass(frozen=True)
class LoadIdentity:
    trial_id: str
    config_sha256: str
    inputs: dict[str, dict[str, str]]  # source -> {"file": name, "sha256": checksum}
    dictionary: str  # as described to readers, e.g. "CTCAE v5.0 (curated, 837 terms)"
    dictionary_sha256: str
    toolkit_version: str
    toolkit_sha256: str

    @property
    def sha256(self) -> str:
        facts = [
            self.trial_id,
            self.config_sha256,
            sorted((name, given["sha256"]) for name, given in self.inputs.items()),
            self.dictionary_sha256,
            self.toolkit_version,
            self.toolkit_sha256,
        ]
        return hashlib.sha256(json.dumps(facts).encode()).hexdigest()


def load_identity(config: TrialConfig, dictionary: CtcaeDictionary) -> LoadIdentity:
    """The identity of loading ``config``'s sources now; every source file is checksummed."""
    return LoadIdentity(
        trial_id=config.id,
        config_sha256=config.sha256,
        inputs=source_checksums(config),
        dictionary=dictionary.description,
        dictionary_sha256=dictionary_sha256(dictionary),
        toolkit_version=toolkit_version(),
        toolkit_sha256=toolkit_sha256(),
    )


def source_checksums(config: TrialConfig) -> dict[str, dict[str, str]]:
    """sha256 of every configured source file (of a trial read from CDISC data, every domain
    file, by domain: a supplemental domain shapes the records too); a missing file is an input error."""
    checksums = {}
    for domain, path in config.cdisc_files().items():
        if not path.is_file():
            raise InputError(path, f"cdisc.files.{domain}", "domain file not found", "correct the file name, or [cdisc] folder, in the trial config")
        checksums[domain] = {"file": path.name, "sha256": file_sha256(path)}
    if checksums:
        return checksums
    for name in type(config.model.sources).model_fields:
        path = config.source_path(name)
        if path is None:
            continue
        if not path.is_file():
            raise InputError(path, f"sources.{name}.path", "source file not found", "correct the path in the trial config")
        checksums[name] = {"file": path.name, "sha256": file_sha256(path)}
    return checksums


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def dictionary_sha256(dictionary: CtcaeDictionary) -> str:
    """The dictionary's terms as loaded (curated or imported), and every shipped CTCAE data file
    (lab criteria, units, synonyms, the v5/v6 mapping)."""
    digest = hashlib.sha256(json.dumps(dictionary.table.to_dicts(), sort_keys=True, default=str).encode())
    digest.update(_shipped_ctcae_sha256().encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _shipped_ctcae_sha256() -> str:
    return _tree_sha256(data_path("ctcae"), ("*.csv",))


def toolkit_version() -> str:
    try:
        return metadata.version("toxwatch")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@lru_cache(maxsize=1)
def toolkit_sha256() -> str:
    """The source text of the loading packages (Python and SQL), as installed or checked out."""
    digest = hashlib.sha256()
    for package in LOADING_PACKAGES:
        folder = Path(__import__(package).__file__).parent
        digest.update(package.encode())
        digest.update(_tree_sha256(folder, ("*.py", "*.sql")).encode())
    return digest.hexdigest()


def _tree_sha256(folder: Path, patterns: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    files = sorted({path for pattern in patterns for path in folder.rglob(pattern)})
    for path in files:
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
