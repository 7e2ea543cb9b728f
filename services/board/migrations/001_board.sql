-- The board's read model: each thing it shows, as folded from carepath's events by
-- services/board/domain.py, kept as the fold's JSON beside the columns its pages select on.
-- Nothing here is the source of anything: `carepath board rebuild` makes it again from the log.

-- An episode: its Trust (which team's board), and whether it has closed.
CREATE TABLE board_episodes (
    episode_id uuid PRIMARY KEY,
    patient_id uuid,
    trust      text,
    closed     boolean NOT NULL DEFAULT false,
    state      jsonb NOT NULL
);
CREATE INDEX board_episodes_by_trust ON board_episodes (trust, closed);

-- Referrals, visits, discharges, carers (by episode) and follow-up clocks (by patient).
CREATE TABLE board_facts (
    kind       text NOT NULL,
    id         uuid NOT NULL,
    episode_id uuid,
    patient_id uuid,
    at         timestamptz,                -- a visit's window start
    open       boolean NOT NULL DEFAULT true,  -- a follow-up clock no contact has stopped yet
    state      jsonb NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX board_facts_by_episode ON board_facts (episode_id, kind);
CREATE INDEX board_facts_open_follow_ups ON board_facts (patient_id) WHERE kind = 'follow-ups' AND open;
