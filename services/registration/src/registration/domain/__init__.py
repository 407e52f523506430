"""Registration's rules: the Payer, Provider, Patient, Coverage and Encounter deciders and their validators.

Pure: no I/O, no clock (commands carry `today`), no keys (commands carry a `seal` function)."""
