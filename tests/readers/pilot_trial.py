"""The CDISC pilot's trial, arms and agents as a trial config written by hand: the part the SDTM
and the ADaM reader tests share (each adds its own [cdisc] table). A str.format template:
braces are doubled."""

PILOT_TRIAL = """\
[trial]
id = "cdiscpilot01"
title = "CDISC pilot: xanomeline transdermal in Alzheimer's disease"
grading = "severity"

[[agents]]
id = "xanomeline"
name = "Xanomeline"
dose_mg = 81
dose_levels_mg = [54, 81]
route = "TRANSDERMAL"
frequency = "QD"

[[agents]]
id = "placebo"
name = "Placebo"
dose_mg = 0
route = "TRANSDERMAL"
frequency = "QD"

[[arms]]
id = "placebo"
value = "Placebo"
agents = ["placebo"]

[[arms]]
id = "low"
value = "Xanomeline Low Dose"
agents = ["xanomeline"]
doses_mg = {{xanomeline = 54}}

[[arms]]
id = "high"
value = "Xanomeline High Dose"
agents = ["xanomeline"]

"""
