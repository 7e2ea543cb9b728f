-- A team's roster is its staff, their shifts and the visits booked to them. Every plan reads it,
-- and most plans find it as the last plan left it: so each change to it gives the team a new
-- version, and a plan reuses the roster it read while the version is the one it read it at. The
-- versions are kept by triggers, so no write -- by any query, any instance -- is missed.

CREATE TABLE roster_versions (
    team    text PRIMARY KEY,
    version uuid NOT NULL
);

CREATE FUNCTION roster_changed(teams text[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO roster_versions (team, version)
        SELECT team, gen_random_uuid() FROM unnest(teams) AS t (team) WHERE team IS NOT NULL ORDER BY team
    ON CONFLICT (team) DO UPDATE SET version = EXCLUDED.version
$$;

-- Visits: a booking is a visit with someone's name on it that is not cancelled.
CREATE FUNCTION visits_booked_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM roster_changed(ARRAY(SELECT DISTINCT s.team FROM new_visits v JOIN staff s USING (staff_id)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM roster_changed(ARRAY(SELECT DISTINCT s.team FROM old_visits v JOIN staff s USING (staff_id)));
    ELSE
        PERFORM roster_changed(ARRAY(
            SELECT DISTINCT s.team
            FROM old_visits o JOIN new_visits n USING (visit_id), LATERAL (VALUES (o.staff_id), (n.staff_id)) AS who (staff_id)
            JOIN staff s ON s.staff_id = who.staff_id
            WHERE o.staff_id IS DISTINCT FROM n.staff_id OR o.window_start <> n.window_start
               OR (o.status = 'cancelled') <> (n.status = 'cancelled')));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER visits_booked_inserted AFTER INSERT ON visits REFERENCING NEW TABLE AS new_visits
    FOR EACH STATEMENT EXECUTE FUNCTION visits_booked_changed();
CREATE TRIGGER visits_booked_updated AFTER UPDATE ON visits REFERENCING OLD TABLE AS old_visits NEW TABLE AS new_visits
    FOR EACH STATEMENT EXECUTE FUNCTION visits_booked_changed();
CREATE TRIGGER visits_booked_deleted AFTER DELETE ON visits REFERENCING OLD TABLE AS old_visits
    FOR EACH STATEMENT EXECUTE FUNCTION visits_booked_changed();

-- Shifts: the team of the member of staff.
CREATE FUNCTION shifts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM roster_changed(ARRAY(SELECT DISTINCT s.team FROM new_shifts h JOIN staff s USING (staff_id)));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM roster_changed(ARRAY(SELECT DISTINCT s.team FROM old_shifts h JOIN staff s USING (staff_id)));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER shifts_inserted AFTER INSERT ON shifts REFERENCING NEW TABLE AS new_shifts
    FOR EACH STATEMENT EXECUTE FUNCTION shifts_changed();
CREATE TRIGGER shifts_updated AFTER UPDATE ON shifts REFERENCING OLD TABLE AS old_shifts NEW TABLE AS new_shifts
    FOR EACH STATEMENT EXECUTE FUNCTION shifts_changed();
CREATE TRIGGER shifts_deleted AFTER DELETE ON shifts REFERENCING OLD TABLE AS old_shifts
    FOR EACH STATEMENT EXECUTE FUNCTION shifts_changed();

-- Staff: the team they are in, and the one they left.
CREATE FUNCTION staff_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM roster_changed(ARRAY(SELECT DISTINCT team FROM new_staff));
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM roster_changed(ARRAY(SELECT DISTINCT team FROM old_staff));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER staff_inserted AFTER INSERT ON staff REFERENCING NEW TABLE AS new_staff
    FOR EACH STATEMENT EXECUTE FUNCTION staff_changed();
CREATE TRIGGER staff_updated AFTER UPDATE ON staff REFERENCING OLD TABLE AS old_staff NEW TABLE AS new_staff
    FOR EACH STATEMENT EXECUTE FUNCTION staff_changed();
CREATE TRIGGER staff_deleted AFTER DELETE ON staff REFERENCING OLD TABLE AS old_staff
    FOR EACH STATEMENT EXECUTE FUNCTION staff_changed();
