"""The assessment service: one assessment per episode that follows the patient; its outcome
decides the pathway (home treatment, admission, CMHT, ...)."""
