"""The scheduling service: a care plan and visits around a named key worker; outcomes, late
and missed visits caught."""
