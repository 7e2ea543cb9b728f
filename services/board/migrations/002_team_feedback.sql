-- Each team's feedback totals for a month, as the discharge service last summarised them
-- (TeamFeedbackSummarised: counts only, never a person's answers or words).
CREATE TABLE board_feedback (
    team   text NOT NULL,
    period text NOT NULL,   -- YYYY-MM
    state  jsonb NOT NULL,
    PRIMARY KEY (team, period)
);
