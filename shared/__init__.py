"""carepath's own library, used by every service: runtime/ (how a service consumes, handles,
relays and runs), privacy/ (the consent decision, sealed copies, disclosure and its audit) and
reference/ (the service directory, H&C numbers). It imports no service and no tool."""
