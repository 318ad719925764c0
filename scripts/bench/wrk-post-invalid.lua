-- A POST that is read, parsed and validated, then refused (400: no service): the HTTP and
-- decoding cost of an ingest request without any storage.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"id":"wrk-invalid","type":"deployment.succeeded","environment":"production","version":"1.2"}'
