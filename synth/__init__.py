"""Synthetic trial generator for the bundled apatinib + anti-PD-1 NPC trial.

`generate_trial` writes a complete trial folder: the six source files of the source contract
(docs/sources.md) and a copy of the bundled ``trial.toml``. A data manager and a safety
physician reading it should find it plausible:

* subjects enrol over ~18 months, start treatment within two weeks of enrolment and stay on
  it until progression, toxicity, death, consent withdrawal, two years of treatment or the
  data cutoff; they are followed for up to 24 months (``synth.cohort``, ``synth.treatment``);
* adverse events follow the profile in ``data/synth/ae_profile.csv`` (incidence, grades,
  onset, duration, attribution per agent, seriousness, dose actions, linked lab or vital
  sign), with nasopharyngeal necrosis and hemorrhage concentrated in subjects with a
  nasopharyngeal (local) recurrence or re-irradiation (``synth.events``,
  ``synth.adverse_events``);
* exposure follows the AE actions: apatinib holds, 250 -> 125 mg reductions and
  withdrawals; anti-PD-1 infusions every 14 days, skipped while held, never reduced
  (``synth.exposure``);
* labs (every cycle start plus baseline) and vitals (every two weeks plus baseline) agree
  with the lab- and vital-based AEs (``synth.labs``, ``synth.vitals``);
* RECIST 1.1 tumour assessments every 8 weeks while on study agree with the course: PD on the
  day of progression (the end of treatment when progression ended it), a response (PR, a
  few CR) in about 40% of the subjects, SD otherwise (``synth.tumour``);
* with ``error_rate > 0`` realistic data-entry errors are injected, so that validation has
  something to query (``synth.errors``).

Every number comes from the files in ``data/synth/`` (``synth.profile``): ``ae_profile.csv``
(one row per AE type), ``lab_reference.csv`` (units, reference ranges, spreads) and
``trial_parameters.toml`` (course of the trial, dosing, seriousness, vitals, tumour
assessments, error kinds). Their source notes cite "note §x.y", the sections of the
project's research note on stopping rules and the AE profile, and the publications it
quotes. Every column name and coded value written comes from the validators' declarations
(``synth.contract``).

Draws are made per AE term, per lab test and per error kind for all subjects at once with
NumPy and Polars, so 100,000 subjects (about a million AE records) take well under two
minutes. The same seed gives byte-identical files.

``synth.sdtm.write_sdtm`` writes a generated trial folder again as CDISC SDTM domains with a
trial.toml that reads them (``toxwatch synth --sdtm``), so that the SDTM route can be checked
against the native one.
"""

from synth.trial import generate_trial

__all__ = ["generate_trial"]
