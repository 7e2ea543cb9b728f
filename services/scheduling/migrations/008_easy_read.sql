-- The patient's messages are sent in easy read where the assessment records a learning
-- disability or a communication need (`AssessmentCompleted.easy_read`, kept up to date by
-- `AssessmentVersionRecorded.easy_read`): every message of the episode to the patient follows it.
ALTER TABLE episodes ADD COLUMN easy_read boolean NOT NULL DEFAULT false;
