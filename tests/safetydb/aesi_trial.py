"""A hand-made five-subject trial for the AESI tables (timing, management, dose actions, subgroups).

Cut 2025-07-01; TEAE window: first dose to last dose + 30 days. Study day 1 = first dose.

Subjects (prior re-irradiation; recurrence type; apatinib dosing, anti-PD-1 on the first day):
  P1  Y      local     2025-01-01 to 2025-06-30
  P2  N      distant   2025-01-01 to 2025-03-31 (TEAE window to 2025-04-30)
  P3  empty  empty     2025-02-01 to 2025-03-12, died 2025-03-12 (fatal pneumonitis)
  P4  Y      local     never dosed (not in the safety population)
  P5  N      regional  2025-03-01 to 2025-06-30
Treated: P1, P2, P3, P5 (N = 4).

AESI sets: thyroid (Hypothyroidism, Hyperthyroidism) and pneumonitis in group "immune";
hypertension and bleeding (Epistaxis) in group "vegf"; necrosis (Pharyngeal necrosis, or the
"Other, specify" text Nasopharyngeal necrosis) in no group.

Adverse events (study day of onset; duration of a resolved episode, onset day = day 1):
  E1  P1 Hypothyroidism g2, day 41, unresolved, not_recovered, treatment hormone_replacement
  E2  P1 Hypertension g3, day 15, resolved 01-24 (10 days), apatinib dose_reduced, antihypertensive
  E3  P1 Epistaxis g1, day 60, resolved the same day (1 day), treatment none
  E4  P1 Nasopharyngeal necrosis (Other, specify) g3, day 91, unresolved, recovering, apatinib
      drug_interrupted, treatment other
  E5  P2 Pneumonitis g2, day 32, resolved 02-20 (20 days), anti-PD-1 drug_interrupted, corticosteroid
  E6  P2 Hyperthyroidism g1, day 20, resolved 02-18 (30 days), treatment none
  E7  P2 Hypothyroidism g2, onset 2025-05-15: after the TEAE window, in no table
  E8  P3 Hypertension g2, day 5, unresolved, not_recovered, apatinib action empty, treatment
      "steroids" (outside the list: queried, counted as other treatment)
  E9  P3 Pneumonitis g5, day 38, fatal, both agents drug_withdrawn, corticosteroid
  E10 P5 Hypertension g1, day 5, resolved 2025-07-10 (after the cut: unresolved at it) with outcome
      recovered (counted as not recovered at the cut), treatment empty (not recorded)
  E11 P4 Hypothyroidism g2: P4 never dosed, in no table
  E12 P1 Hypothyroidism g1, day 121, resolved 05-30 (30 days), recovered, treatment none
"""

from __future__ import annotations

from pathlib import Path

CUT = "2025-07-01"

SUBJECTS = """subject_id,site_id,arm,sex,age,enrolment_date,recurrence_type,prior_reirradiation,end_of_treatment_date,end_of_treatment_reason,last_contact_date,death_date,death_cause
P1,01,A,M,50,2025-01-01,local,Y,,,2025-07-01,,
P2,01,A,F,44,2025-01-01,distant,N,2025-03-31,progression,2025-07-01,,
P3,02,A,M,61,2025-01-20,,,2025-03-12,death,2025-03-12,2025-03-12,adverse_event
P4,02,A,M,39,2025-01-01,local,Y,,,2025-07-01,,
P5,01,A,F,58,2025-02-20,regional,N,,,2025-07-01,,
"""

EXPOSURE = """subject_id,agent,start_date,end_date,dose_mg,planned_dose_mg,route,frequency,adjustment,adjustment_reason
P1,apatinib,2025-01-01,2025-06-30,250,250,PO,QD,none,
P1,anti_pd1,2025-01-01,2025-01-01,200,200,IV,Q2W,none,
P2,apatinib,2025-01-01,2025-03-31,250,250,PO,QD,none,
P2,anti_pd1,2025-01-01,2025-01-01,200,200,IV,Q2W,none,
P3,apatinib,2025-02-01,2025-03-12,250,250,PO,QD,none,
P3,anti_pd1,2025-02-01,2025-02-01,200,200,IV,Q2W,none,
P5,apatinib,2025-03-01,2025-06-30,250,250,PO,QD,none,
P5,anti_pd1,2025-03-01,2025-03-01,200,200,IV,Q2W,none,
"""

NECROSIS = '"Respiratory, thoracic and mediastinal disorders - Other, specify",Nasopharyngeal necrosis'
ADVERSE_EVENTS = f"""ae_id,subject_id,verbatim_term,ctcae_term,other_specify,grade,onset_date,resolution_date,serious,serious_criteria,outcome,attribution_apatinib,attribution_anti_pd1,action_apatinib,action_anti_pd1,awareness_date,treatment
E1,P1,low thyroid,Hypothyroidism,,2,2025-02-10,,N,,not_recovered,unlikely,probable,dose_not_changed,dose_not_changed,,hormone_replacement
E2,P1,high blood pressure,Hypertension,,3,2025-01-15,2025-01-24,N,,recovered,probable,unlikely,dose_reduced,dose_not_changed,,antihypertensive
E3,P1,nose bleed,Epistaxis,,1,2025-03-01,2025-03-01,N,,recovered,possible,unlikely,dose_not_changed,dose_not_changed,,none
E4,P1,necrosis,{NECROSIS},3,2025-04-01,,N,,recovering,probable,unlikely,drug_interrupted,dose_not_changed,,other
E5,P2,pneumonitis,Pneumonitis,,2,2025-02-01,2025-02-20,N,,recovered,unlikely,probable,dose_not_changed,drug_interrupted,,corticosteroid
E6,P2,thyroiditis,Hyperthyroidism,,1,2025-01-20,2025-02-18,N,,recovered,unlikely,possible,dose_not_changed,dose_not_changed,,none
E7,P2,low thyroid,Hypothyroidism,,2,2025-05-15,,N,,not_recovered,unlikely,probable,not_applicable,not_applicable,,hormone_replacement
E8,P3,high blood pressure,Hypertension,,2,2025-02-05,,N,,not_recovered,probable,unlikely,,dose_not_changed,,steroids
E9,P3,pneumonitis,Pneumonitis,,5,2025-03-10,2025-03-12,Y,death,fatal,unlikely,probable,drug_withdrawn,drug_withdrawn,2025-03-11,corticosteroid
E10,P5,high blood pressure,Hypertension,,1,2025-03-05,2025-07-10,N,,recovered,probable,unlikely,dose_not_changed,dose_not_changed,,
E11,P4,low thyroid,Hypothyroidism,,2,2025-02-01,,N,,not_recovered,unlikely,probable,not_applicable,not_applicable,,hormone_replacement
E12,P1,low thyroid,Hypothyroidism,,1,2025-05-01,2025-05-30,N,,recovered,unlikely,probable,dose_not_changed,dose_not_changed,,none
"""

CONFIG = """
[trial]
id = "aesi-mini"
title = "AESI tables, hand-made"
ctcae_version = "5.0"
cycle_length_days = 28

[[agents]]
id = "apatinib"
name = "Apatinib"
dose_mg = 250
route = "PO"
frequency = "QD"
dose_levels_mg = [250, 125]

[[agents]]
id = "anti_pd1"
name = "Anti-PD-1"
dose_mg = 200
route = "IV"
frequency = "Q2W"

[windows]
teae_end_days = 30

[sources.subjects]
path = "subjects.csv"

[sources.exposure]
path = "exposure.csv"

[sources.adverse_events]
path = "adverse_events.csv"

[aesi_groups.immune]
label = "Immune-related"

[aesi_groups.vegf]
label = "VEGF class"

[aesi.thyroid]
label = "Thyroid"
group = "immune"
terms = ["Hypothyroidism", "Hyperthyroidism"]

[aesi.hypertension]
label = "Hypertension"
group = "vegf"
terms = ["Hypertension"]

[aesi.pneumonitis]
label = "Pneumonitis"
group = "immune"
terms = ["Pneumonitis"]

[aesi.bleeding]
label = "Bleeding"
group = "vegf"
terms = ["Epistaxis"]

[aesi.necrosis]
label = "Necrosis"
terms = ["Pharyngeal necrosis"]
other_specify = ["Nasopharyngeal necrosis"]

[[subgroups]]
variable = "prior_reirradiation"
label = "Prior re-irradiation"
levels = [{ value = "Y", label = "Re-irradiated" }, "N"]

[[subgroups]]
variable = "recurrence_type"
label = "Recurrence"
levels = ["local", "distant"]
"""


def make_aesi_trial(folder: Path) -> Path:
    """Write the trial's sources and config into ``folder``; returns the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "subjects.csv").write_text(SUBJECTS)
    (folder / "exposure.csv").write_text(EXPOSURE)
    (folder / "adverse_events.csv").write_text(ADVERSE_EVENTS)
    config = folder / "trial.toml"
    config.write_text(CONFIG)
    return config
