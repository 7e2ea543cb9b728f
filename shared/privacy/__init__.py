"""The privacy steps every disclosure takes: the consent decision (pure), the consent state each
service keeps, sealed copies and their keys, disclosure with its audit event, and delivery on receipt."""
