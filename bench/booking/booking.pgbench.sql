-- The booking transaction of backend/booking/reservations.py, statement for statement:
-- lock the patient, read the session and the patient's history, take the first free slot
-- (skipping locked ones), write the booking, its event and its audit record, read the receipt.
\set pid random(1, :npatients)
\set sid random(:smin, :smax)
BEGIN;
SELECT id, id_hash FROM patients WHERE id = :pid FOR UPDATE;
SELECT id, hospital_id, department_id, day, starts_at, status FROM schedules WHERE id = :sid;
SELECT b.booked_at, b.visit_day, b.department_id, b.status, s.starts_at
  FROM bookings b JOIN schedules s ON s.id = b.schedule_id
  WHERE b.patient_id = :pid
    AND (b.booked_at >= now() - interval '90 days' OR b.visit_day >= current_date - 180
         OR b.status = 'booked');
WITH took AS (
  UPDATE slots SET taken = true
  WHERE id = (SELECT id FROM slots
              WHERE schedule_id = :sid AND NOT taken AND channel IN ('any', 'online')
                AND (release_at IS NULL OR release_at <= now())
              ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
    AND NOT taken
  RETURNING id
), booked AS (
  INSERT INTO bookings (code, slot_id, schedule_id, hospital_id, department_id, patient_id,
                        account_id, visit_day, status, channel, actor, booked_at, updated_at)
  SELECT lpad((random() * 1e10)::bigint::text, 10, '0'), took.id, s.id, s.hospital_id,
         s.department_id, :pid, NULL, s.day, 'booked', 'online', 'pgbench', now(), now()
  FROM took, schedules s WHERE s.id = :sid
  RETURNING id, hospital_id, code
), event AS (
  INSERT INTO booking_events (hospital_id, booking_id, kind, at)
  SELECT hospital_id, id, 'booked', now() FROM booked
)
INSERT INTO audit_records (at, actor, action, target, source_ip, details)
SELECT now(), 'pgbench', 'booking.create', 'booking:' || code, '127.0.0.1', '{}' FROM booked;
SELECT b.code, s.day, s.session, h.name, d.name, sl.seq, p.name_enc
  FROM bookings b JOIN schedules s ON s.id = b.schedule_id JOIN hospitals h ON h.id = b.hospital_id
  JOIN departments d ON d.id = b.department_id JOIN slots sl ON sl.id = b.slot_id
  JOIN patients p ON p.id = b.patient_id
  WHERE b.patient_id = :pid ORDER BY b.id DESC LIMIT 1;
COMMIT;
