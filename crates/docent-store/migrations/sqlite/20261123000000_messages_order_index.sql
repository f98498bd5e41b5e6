-- A conversation's messages are read in (created_at, id) order on every turn: with id in the
-- index the rows come out in that order and no sort is needed.
DROP INDEX messages_conversation;
CREATE INDEX messages_conversation ON messages (conversation_id, created_at, id);
