-- Every plan reads the team's bookings over the planning horizon, by member of staff: without
-- this index that read grew with every visit ever booked.
CREATE INDEX visits_booked_by_staff ON visits (staff_id, window_start) WHERE staff_id IS NOT NULL AND status <> 'cancelled';
