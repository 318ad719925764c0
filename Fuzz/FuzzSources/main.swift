import ShiplogModel
import ShiplogSources

#if FUZZING
import FuzzDriver

/// Any body to any adapter, the Kubernetes Deployment reader among them (the first byte picks which): decoding never traps, and every
/// event it accepts is a valid event.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSources(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: start, count: count))
    guard let selector = input.first else { return 0 }
    let body = Array(input.dropFirst())
    let now = Timestamp(nanoseconds: 1_780_000_000_000_000_000)
    let events: [PreparedEvent]
    switch selector % 14 {
    case 0: events = (try? NativeSource.decode(body, framing: .json, receivedAt: now).get().events) ?? []
    case 1: events = (try? NativeSource.decode(body, framing: .ndjson, receivedAt: now).get().events) ?? []
    case 2: events = (try? CDEventsSource.decode(body, mode: .structured, receivedAt: now).get().events) ?? []
    case 3: events = (try? CDEventsSource.decode(body, mode: .batch, receivedAt: now).get().events) ?? []
    case 4:
        let headers = ["ce-type": "dev.cdevents.service.deployed.0.2.0", "ce-id": "1", "ce-source": "fuzz", "ce-specversion": "1.0"]
        events = (try? CDEventsSource.decode(body, mode: .binary(headers: headers), receivedAt: now).get().events) ?? []
    case 5: events = (try? GitHubSource.decode(body, event: "deployment", delivery: "d", receivedAt: now).get().events) ?? []
    case 6: events = (try? GitHubSource.decode(body, event: "deployment_status", delivery: "d", receivedAt: now).get().events) ?? []
    case 7: events = (try? ArgoCDSource.decode(body, receivedAt: now).get().events) ?? []
    case 9: events = (try? GitHubSource.decode(body, event: "pull_request", delivery: "d", receivedAt: now).get().events) ?? []
    case 10:
        events = (try? GitLabSource.decode(body, idempotencyKey: nil, services: ["a/b": "c"], receivedAt: now).get().events) ?? []
    case 11: events = (try? FluxSource.decode(body, environmentFrom: .metadata("env"), receivedAt: now).get().events) ?? []
    case 12:
        let services = PagerDutySource.ServiceMap(entries: ["PA2P440": .init(service: "api", environment: "staging")])
        events = (try? PagerDutySource.decode(body, services: services, receivedAt: now).get().events) ?? []
    case 13:
        // A Kubernetes Deployment: its fields, with an environment, either fail validation
        // with an error or make an event whose canonical form validates back to itself.
        events = []
        if let json = try? JSONValue.parse(body), case .success(var fields) = KubernetesSource.eventFields(fromDeployment: json) {
            fields.append(("environment", .string("production")))
            fields.append(("time", .string("2026-01-01T00:00:00Z")))
            if case .success(let event) = Event.validate(.object(fields), now: nil) {
                let canonical = event.canonicalJSON
                guard let again = try? JSONValue.parse(canonical), case .success(let back) = Event.validate(again, now: nil),
                    back.canonicalJSON == canonical
                else { fatalError("a Kubernetes Deployment gave an event that does not validate back: \(canonical)") }
            }
        }
    default: events = (try? AlertmanagerSource.decode(body, receivedAt: now).get().events) ?? []
    }
    for prepared in events {
        guard let json = try? JSONValue.parse(prepared.canonical), case .success = Event.validate(json, now: nil) else {
            fatalError("an adapter accepted an event that does not validate: \(prepared.canonical)")
        }
    }
    return 0
}

@_cdecl("FuzzSources_main")
func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv, fuzzSources)
}
#endif
