-- docker-compose: the key stores of the services that send copies, on a server of their own
-- (shared/privacy/keystore.py); make infra keeps them beside the service databases, for development.
CREATE DATABASE carepath_assessment_keys OWNER keys;
CREATE DATABASE carepath_discharge_keys OWNER keys;
