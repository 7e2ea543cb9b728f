-- The patient's messages are sent in easy read where the assessment records a learning
-- disability or a communication need (`AssessmentCompleted.easy_read`): the discharge messages
-- to the patient follow it.
ALTER TABLE episodes ADD COLUMN easy_read boolean NOT NULL DEFAULT false;
