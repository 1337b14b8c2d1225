"""Free text in the open DSMB report: printed only where the trial config allows it.

The open report goes to every DSMB member and open-session attendee, and free text (the
investigator's verbatim term, the "Other, specify" text) is where a name or a date of birth
slips in. With ``privacy.open_report_free_text = false`` (the default) the report prints the
mark ``(free text omitted)`` in place of any text that is neither a CTCAE term of the trial's
dictionary nor a text the trial configuration itself names (an AESI's "Other, specify" texts,
the reference safety information's entries): those are the trial team's vocabulary, not text
typed about a patient. A term the dictionary does not know was typed too and is omitted with
the free text; its row still stands under "Not coded to CTCAE". A trial read from CDISC data
(``[cdisc]``) tables its AEs by the MedDRA preferred terms the sponsor coded (AEDECOD), the
coder's vocabulary and no text typed about a patient: those are printed. Counts never change:
only the words printed beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from ctcae.terms import CtcaeDictionary, fold_term, load_dictionary
from trial.config import TrialConfig

OMITTED = "(free text omitted)"
NOTE = "Free text omitted from this open report (trial config privacy.open_report_free_text)."
ANY_TERM = "(any)"  # the totals row of a term table


@dataclass(frozen=True)
class OpenReportText:
    """Which texts the open report prints, and the mark that stands for the others."""

    omit: bool
    dictionary: CtcaeDictionary | None
    named_texts: frozenset[str]  # the trial config's own texts, folded as CTCAE terms are
    coded_terms: bool = False  # the terms tabled are coded MedDRA terms (a trial read from CDISC data)

    @classmethod
    def for_trial(cls, config: TrialConfig, *, dictionary: CtcaeDictionary | None = None) -> OpenReportText:
        omit = not config.model.privacy.open_report_free_text
        if omit and dictionary is None:
            dictionary = load_dictionary(config.model.trial.ctcae_version)
        model = config.model
        named = [text for aesi in model.aesi.values() for text in (*aesi.terms, *aesi.other_specify)]
        for entries in model.expedited.reference_safety_information.values():
            named += [text for entry in entries for text in (entry.term, entry.specify) if text is not None]
        return cls(
            omit=omit, dictionary=dictionary, named_texts=frozenset(fold_term(text) for text in named),
            coded_terms=model.cdisc is not None,
        )

    @property
    def note(self) -> str | None:
        """The sentence the report prints near every table and listing that could show free text."""
        return NOTE if self.omit else None

    def shows(self, text: str | None) -> bool:
        if not self.omit or text is None or text == ANY_TERM or self.coded_terms:
            return True
        return (self.dictionary is not None and self.dictionary.lookup(text) is not None) or fold_term(text) in self.named_texts

    def text(self, text: str | None) -> str | None:
        return text if self.shows(text) else OMITTED

    def event(self, event: dict) -> dict:
        """An event of flags.json (a qualifying event, an expedited-report flag) with its free text omitted."""
        shown = dict(event)
        for key in ("ctcae_term", "ae_term", "other_specify"):
            if key in shown:
                shown[key] = self.text(shown[key])
        return shown

    def column(self, frame: pl.DataFrame, column: str, *, coded: str | None = None) -> pl.DataFrame:
        """``frame`` with each text of ``column`` the report may not print replaced by the mark;
        with ``coded``, by that column's CTCAE term followed by the mark ("<SOC> - Other, specify:
        (free text omitted)")."""
        hidden = self._hidden(frame, column)
        if not hidden:
            return frame
        replacement = pl.lit(OMITTED)
        if coded is not None:
            coded_hidden = self._hidden(frame, coded)
            replacement = pl.when(pl.col(coded).is_in(coded_hidden)).then(replacement).otherwise(pl.col(coded) + f": {OMITTED}")
        return frame.with_columns(pl.when(pl.col(column).is_in(hidden)).then(replacement).otherwise(pl.col(column)).alias(column))

    def joined_column(self, frame: pl.DataFrame, column: str, *, separator: str) -> pl.DataFrame:
        """``frame`` with each text of a ``separator``-joined list in ``column`` masked as ``column`` does."""
        if not self.omit or frame.is_empty():
            return frame
        pieces = frame[column].str.split(separator).explode().drop_nulls().unique().to_list()
        hidden = [piece for piece in pieces if not self.shows(piece)]
        if not hidden:
            return frame
        masked = pl.col(column).str.split(separator).list.eval(
            pl.when(pl.element().is_in(hidden)).then(pl.lit(OMITTED)).otherwise(pl.element())
        ).list.join(separator)
        return frame.with_columns(masked.alias(column))

    def within(self, frame: pl.DataFrame, column: str, *, texts: Sequence[str]) -> pl.DataFrame:
        """``frame`` with the texts of its row's ``texts`` columns that the report may not print
        replaced by the mark where ``column`` quotes them (e.g. "apatinib: <text> not in RSI")."""
        if not self.omit or frame.is_empty():
            return frame
        values = []
        for sentence, *quoted in frame.select(column, *texts).iter_rows():
            for text in quoted:
                if sentence is not None and text and not self.shows(text):
                    sentence = sentence.replace(text, OMITTED)
            values.append(sentence)
        return frame.with_columns(pl.Series(column, values, dtype=pl.String))

    def _hidden(self, frame: pl.DataFrame, column: str) -> list[str]:
        if not self.omit or frame.is_empty():
            return []
        return [text for text in frame[column].drop_nulls().unique().to_list() if not self.shows(text)]
