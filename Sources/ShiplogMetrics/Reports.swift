import ShiplogModel

/// DORA performance levels (2023 State of DevOps thresholds).
public enum PerformanceLevel: String, Sendable, Comparable {
    case elite, high, medium, low

    public static func < (a: PerformanceLevel, b: PerformanceLevel) -> Bool {
        let order: [PerformanceLevel] = [.low, .medium, .high, .elite]
        return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }

    /// On demand or daily → elite; at least weekly → high; at least monthly → medium.
    public static func deploymentFrequency(perDay: Double) -> PerformanceLevel {
        perDay >= 1 ? .elite : perDay >= 1.0 / 7 ? .high : perDay >= 1.0 / 30 ? .medium : .low
    }

    /// Under a day → elite; a week → high; a month → medium.
    public static func leadTime(seconds: Double) -> PerformanceLevel? {
        seconds.isNaN ? nil : seconds < 86_400 ? .elite : seconds < 7 * 86_400 ? .high : seconds < 30 * 86_400 ? .medium : .low
    }

    /// At most 5 % → elite; 10 % → high; 15 % → medium.
    public static func changeFailureRate(_ ratio: Double) -> PerformanceLevel {
        ratio <= 0.05 ? .elite : ratio <= 0.10 ? .high : ratio <= 0.15 ? .medium : .low
    }

    /// Under an hour → elite; a day → high; a week → medium.
    public static func timeToRestore(seconds: Double) -> PerformanceLevel? {
        seconds.isNaN ? nil : seconds < 3600 ? .elite : seconds < 86_400 ? .high : seconds < 7 * 86_400 ? .medium : .low
    }
}

/// One service's DORA figures in one environment over one window.
public struct DORAReportRow: Sendable, Hashable {
    public var service: String
    public var environment: String
    public var window: Window
    public var figures: WindowFigures

    public var deploymentsPerDay: Double { Double(figures.deployments) / (Double(window.seconds) / 86_400) }
    public var frequencyLevel: PerformanceLevel? { figures.deployments == 0 ? nil : .deploymentFrequency(perDay: deploymentsPerDay) }
    public var leadTimeLevel: PerformanceLevel? { .leadTime(seconds: figures.leadTimeMedian) }
    public var failureLevel: PerformanceLevel? { figures.deployments == 0 ? nil : .changeFailureRate(figures.changeFailureRatio) }
    public var restoreLevel: PerformanceLevel? { .timeToRestore(seconds: figures.timeToRestoreMedian) }

    public var jsonValue: JSONValue {
        func num(_ d: Double) -> JSONValue { d.isNaN ? .null : .number(ExpositionWriter.format(d)) }
        func level(_ l: PerformanceLevel?) -> JSONValue { l.map { .string($0.rawValue) } ?? .null }
        return .object([
            ("service", .string(service)), ("environment", .string(environment)), ("window", .string(window.label)),
            ("deployments", .number(String(figures.deployments))),
            ("deploymentsPerDay", num(deploymentsPerDay)), ("deploymentFrequencyLevel", level(frequencyLevel)),
            ("leadTimeMedianSeconds", num(figures.leadTimeMedian)), ("leadTimeLevel", level(leadTimeLevel)),
            ("changeFailureRatio", num(figures.changeFailureRatio)), ("changeFailureLevel", level(failureLevel)),
            ("timeToRestoreMedianSeconds", num(figures.timeToRestoreMedian)), ("timeToRestoreLevel", level(restoreLevel)),
            ("reworkRatio", num(figures.reworkRatio)),
        ])
    }
}

extension Projection {
    /// The DORA report: per service that has events in `environment`, its figures over `window`.
    public func report(environment: String, window: Window, service: String? = nil, now: Int64) -> [DORAReportRow] {
        sortedKeys.filter {
            $0.environment == environment && (service == nil || $0.service == service) && pairs[$0]!.lastTime != .min
        }.map { key in
            DORAReportRow(
                service: key.service,
                environment: environment,
                window: window,
                figures: pairs[key]!.figures(window: window, now: now)
            )
        }
    }

    /// Per service: the live version in each pipeline environment and what waits to be promoted.
    public func status(now: Int64) -> JSONValue {
        var services: [JSONValue] = []
        var others: [String: [String]] = [:]
        for key in sortedKeys where pipeline.index(of: key.environment) == nil {
            others[key.service, default: []].append(key.environment)
        }
        for service in self.services {
            var environments: [JSONValue] = []
            let envs = pipeline.environments + (others[service] ?? [])
            for env in envs {
                let key = PairKey(service: service, environment: env)
                guard let p = pairs[key] else { continue }
                var m: [(String, JSONValue)] = [("environment", .string(env))]
                m.append(("liveVersion", p.liveVersion.map(JSONValue.string) ?? .null))
                m.append(("liveArtifact", p.liveArtifact.map(JSONValue.string) ?? .null))
                m.append(("liveSince", p.liveSince.map { .string(Timestamp(nanoseconds: $0).rfc3339) } ?? .null))
                m.append(("deployedBy", p.liveActor.map(JSONValue.string) ?? .null))
                m.append(("liveSkippedGate", .bool(liveSkippedGate(key))))
                m.append(("lastDeployment", p.lastDeploymentTime.map { .string(Timestamp(nanoseconds: $0).rfc3339) } ?? .null))
                m.append(("degraded", .bool(p.isDegraded)))
                m.append(("openIncidents", .number(String(p.openIncidents.count))))
                let f30 = p.figures(window: Window(label: "30d", seconds: 30 * 86_400), now: now)
                m.append(
                    (
                        "dora30d",
                        .object([
                            ("deployments", .number(String(f30.deployments))),
                            ("changeFailureRatio", .number(ExpositionWriter.format(f30.changeFailureRatio))),
                            ("leadTimeMedianSeconds", f30.leadTimeMedian.isNaN ? .null : .number(ExpositionWriter.format(f30.leadTimeMedian))),
                            (
                                "timeToRestoreMedianSeconds",
                                f30.timeToRestoreMedian.isNaN ? .null : .number(ExpositionWriter.format(f30.timeToRestoreMedian))
                            ),
                            ("reworkRatio", .number(ExpositionWriter.format(f30.reworkRatio))),
                        ])
                    )
                )
                if let pending = pending(key, now: now), pending.seconds > 0 {
                    m.append(
                        (
                            "pending",
                            .object([
                                ("from", .string(pipeline.previous(env)!)),
                                ("artifact", .string(pending.artifact)),
                                ("version", pending.version.map(JSONValue.string) ?? .null),
                                ("waitingSeconds", .number(ExpositionWriter.format(pending.seconds.rounded()))),
                            ])
                        )
                    )
                }
                environments.append(.object(m))
            }
            services.append(.object([("service", .string(service)), ("environments", .array(environments))]))
        }
        return .object([("pipeline", .array(pipeline.environments.map(JSONValue.string))), ("services", .array(services))])
    }

    /// Whether the artifact live in `key` first succeeded there without having succeeded in
    /// the previous pipeline environment before (an unverified promotion that is live now).
    public func liveSkippedGate(_ key: PairKey) -> Bool {
        guard let previous = pipeline.previous(key.environment), let p = pairs[key], let artifact = p.liveArtifactKey,
            let here = p.firstSuccess[artifact]
        else { return false }
        guard let there = pairs[PairKey(service: key.service, environment: previous)]?.firstSuccess[artifact] else { return true }
        return there > here
    }
}

