extension ServiceDeployment.Spec {
    /// The versions to serve and their weights (a single `version` is weight 100).
    public var desiredVersions: [ServiceDeployment.ActiveGeneration] {
        if let generations { return generations.entries.map { .init(version: $0.version, weight: $0.weight) } }
        return version.map { [.init(version: $0, weight: 100)] } ?? []
    }

    /// The split strategy; a single version is served as `Random` with one entry.
    public var strategy: ServiceDeployment.Generations.Strategy { generations?.strategy ?? .random }
}

