-- Discharge planning, the gate, follow-up clocks, reviews and readmission links.
ALTER TABLE episodes ADD COLUMN trust text;
ALTER TABLE episodes ADD COLUMN previous_episode_id uuid;
ALTER TABLE episodes ADD COLUMN review_due_at timestamptz;       -- when the 6-week review event was emitted
ALTER TABLE episodes ADD COLUMN proposed_at timestamptz;
ALTER TABLE episodes ADD COLUMN planned_for date;
ALTER TABLE episodes ADD COLUMN proposal_reason text;            -- clinical text: stays here
ALTER TABLE episodes ADD COLUMN patient_view text;               -- the patient's own words, never overwritten
ALTER TABLE episodes ADD COLUMN patient_wants_more_time boolean NOT NULL DEFAULT false;
ALTER TABLE episodes ADD COLUMN summary jsonb;
ALTER TABLE episodes ADD COLUMN crisis_contacts text[] NOT NULL DEFAULT '{}';
ALTER TABLE episodes ADD COLUMN patient_told_at timestamptz;
ALTER TABLE episodes ADD COLUMN onward_to text;
ALTER TABLE episodes ADD COLUMN onward_reason text;
ALTER TABLE episodes ADD COLUMN crisis_contacts_given_at timestamptz;

CREATE TABLE carer_views (
    episode_id  uuid        NOT NULL REFERENCES episodes,
    carer_id    text        NOT NULL,
    view        text        NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (episode_id, carer_id, recorded_at)
);

CREATE TABLE followups (
    followup_id   uuid PRIMARY KEY,
    patient_id    uuid        NOT NULL,
    episode_id    uuid,
    source        text        NOT NULL CHECK (source IN ('home-treatment', 'ward')),
    trust         text,
    discharged_at timestamptz NOT NULL,
    contacted_at  timestamptz,
    breached_at   timestamptz
);
CREATE INDEX followups_open ON followups (discharged_at) WHERE contacted_at IS NULL AND breached_at IS NULL;
