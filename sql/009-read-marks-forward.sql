-- A read mark (message_read_status.last_read_message_id) only moves forward. The Redis view
-- holds a conversation's messages only while some participant has not read them
-- (projectors/redis/apply.lua, CONVERSATION): a mark moved back would count messages the view
-- no longer holds, and it would diverge without a sign. The API moves marks with GREATEST
-- (api/domains/messages/writes.ts); this keeps every other writer (a script, a manual fix) to
-- the same rule, with an error that says so.
CREATE FUNCTION nova_read_mark_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_read_message_id < OLD.last_read_message_id THEN
        RAISE EXCEPTION 'message_read_status: last_read_message_id only moves forward (% -> %, user %, conversation %)',
            OLD.last_read_message_id, NEW.last_read_message_id, OLD.user_id, OLD.conversation_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'read_mark_forward',
                  HINT = 'set it with GREATEST(last_read_message_id, $new), as the API does';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER read_mark_forward
    BEFORE UPDATE OF last_read_message_id ON message_read_status
    FOR EACH ROW EXECUTE FUNCTION nova_read_mark_forward();
