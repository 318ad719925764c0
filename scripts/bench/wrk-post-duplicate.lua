-- The same event again and again: after the first, every POST is a duplicate (200). Each one
-- still goes through group commit, the writer's insert attempt and look-up, and waits for a
-- WAL sync, but no row is written.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"id":"wrk-duplicate","type":"deployment.succeeded","service":"svc-1","environment":"production","version":"1.2","time":"2026-11-27T10:00:00Z"}'
