-- docker-compose: one database per service, as `make infra` creates them.
CREATE DATABASE carepath_referral OWNER carepath;
CREATE DATABASE carepath_assessment OWNER carepath;
CREATE DATABASE carepath_scheduling OWNER carepath;
CREATE DATABASE carepath_discharge OWNER carepath;
-- The key stores of the services that send copies (shared/privacy/keystore.py): in production,
-- a database (or a KMS) whose backups are kept apart from the services' own.
CREATE DATABASE carepath_assessment_keys OWNER carepath;
CREATE DATABASE carepath_discharge_keys OWNER carepath;
