-- docker-compose: one database per service, as `make infra` creates them.
CREATE DATABASE carepath_referral OWNER carepath;
CREATE DATABASE carepath_assessment OWNER carepath;
CREATE DATABASE carepath_scheduling OWNER carepath;
CREATE DATABASE carepath_discharge OWNER carepath;
