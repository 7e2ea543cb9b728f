"""The discharge service: nobody discharged without knowing; follow-up and the next team told."""
