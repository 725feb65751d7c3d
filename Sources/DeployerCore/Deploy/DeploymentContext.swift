import DeployerModel
import Foundation

/// Everything a deployment's rollout needs, read from the store: its service's packages,
/// its infrastructure with resolved secrets, and the driver for that infrastructure type.
struct DeploymentContext: Sendable {
    let infrastructure: ResolvedInfrastructure
    let driver: any InfrastructureDriver
    let packages: [String: PackageReference]
    let hooks: Hooks
    /// How callers of the service authenticate (public for a removal).
    var callerAuth = CallerAuth.public

    var targetNames: [String] { driver.targetNames(of: infrastructure) }

    /// Reads and checks what `spec` refers to; a missing or unusable reference is a `Stall`.
    static func resolve(
        _ spec: ServiceDeployment.Spec, namespace: String, store: any ResourceStore, drivers: [String: any InfrastructureDriver]
    ) async throws -> DeploymentContext {
        guard let service = try await store.decoded(PublishedService.self, at: ObjectKey(.publishedService, namespace: namespace, name: spec.service))
        else { throw Stall(reason: "ServiceNotFound", message: "published service \"\(spec.service)\" does not exist") }
        var packages: [String: PackageReference] = [:]
        for wanted in spec.desiredVersions {
            guard let version = service.spec.versions.first(where: { $0.version == wanted.version }) else {
                throw Stall(reason: "VersionNotFound", message: "published service \"\(spec.service)\" has no version \"\(wanted.version)\"")
            }
            packages[wanted.version] = PackageReference(sha256: version.package.sha256, url: version.package.url)
        }
        var context = try await resolve(spec, namespace: namespace, packages: packages, store: store, drivers: drivers)
        context.callerAuth = try await CallerAuth.resolve(spec.auth ?? service.spec.auth, namespace: namespace, store: store)
        return context
    }

    /// What removal needs: the infrastructure, its secrets and driver (the service may be gone).
    static func resolveForRemoval(
        _ spec: ServiceDeployment.Spec, namespace: String, store: any ResourceStore, drivers: [String: any InfrastructureDriver]
    ) async throws -> DeploymentContext {
        try await resolve(spec, namespace: namespace, packages: [:], store: store, drivers: drivers)
    }

    private static func resolve(
        _ spec: ServiceDeployment.Spec, namespace: String, packages: [String: PackageReference], store: any ResourceStore,
        drivers: [String: any InfrastructureDriver]
    ) async throws -> DeploymentContext {
        guard let infrastructure = try await store.decoded(
            Infrastructure.self, at: ObjectKey(.infrastructure, namespace: namespace, name: spec.infrastructure))
        else { throw Stall(reason: "InfrastructureNotFound", message: "infrastructure \"\(spec.infrastructure)\" does not exist") }
        let driver = try driver(for: infrastructure.spec, in: drivers)
        let resolved = try await resolveSecrets(infrastructure, namespace: namespace, store: store)
        return DeploymentContext(
            infrastructure: resolved, driver: driver, packages: packages, hooks: Hooks.merged(infrastructure.spec.hooks, spec.hooks))
    }

    /// The driver of the infrastructure's type; none is a `Stall`.
    static func driver(for spec: Infrastructure.Spec, in drivers: [String: any InfrastructureDriver]) throws -> any InfrastructureDriver {
        guard let driver = drivers[spec.target.typeName] else {
            throw Stall(
                reason: "UnsupportedInfrastructure", message: "this controller has no driver for \(spec.target.typeName) infrastructures yet")
        }
        return driver
    }

    /// The infrastructure with the values of the secrets its target block names.
    static func resolveSecrets(_ infrastructure: Infrastructure, namespace: String, store: any ResourceStore) async throws
        -> ResolvedInfrastructure
    {
        var values: [SecretKeyRef: String] = [:]
        for reference in ResolvedInfrastructure.references(of: infrastructure.spec) {
            values[reference] = try await secretValue(reference, namespace: namespace, store: store)
        }
        for reference in ResolvedInfrastructure.optionalReferences(of: infrastructure.spec) {
            values[reference] = try? await secretValue(reference, namespace: namespace, store: store)
        }
        return ResolvedInfrastructure(
            name: infrastructure.metadata.name, namespace: namespace, spec: infrastructure.spec, secretValues: values)
    }

    /// One key of a Secret; a missing secret or key is a `Stall`.
    static func secretValue(_ reference: SecretKeyRef, namespace: String, store: any ResourceStore) async throws -> String {
        guard let secret = try await store.decoded(Secret.self, at: ObjectKey(.secret, namespace: namespace, name: reference.name)) else {
            throw Stall(reason: "SecretNotFound", message: "secret \"\(reference.name)\" does not exist")
        }
        guard let encoded = secret.data?[reference.key], let bytes = Base64.decode(encoded) else {
            throw Stall(reason: "SecretNotFound", message: "secret \"\(reference.name)\" has no key \"\(reference.key)\"")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Hooks {
    /// The infrastructure's hooks followed by the deployment's, per phase.
    static func merged(_ first: Hooks?, _ second: Hooks?) -> Hooks {
        func join(_ a: [Hook]?, _ b: [Hook]?) -> [Hook]? {
            let all = (a ?? []) + (b ?? [])
            return all.isEmpty ? nil : all
        }
        return Hooks(
            preDeploy: join(first?.preDeploy, second?.preDeploy), postDeploy: join(first?.postDeploy, second?.postDeploy),
            preDelete: join(first?.preDelete, second?.preDelete), postDelete: join(first?.postDelete, second?.postDelete))
    }

    /// The hooks of one phase.
    func hooks(for phase: HookPhase) -> [Hook] {
        switch phase {
        case .preDeploy: preDeploy ?? []
        case .postDeploy: postDeploy ?? []
        case .preDelete: preDelete ?? []
        case .postDelete: postDelete ?? []
        }
    }
}

/// The transitions hooks run at.
enum HookPhase: String, Sendable {
    case preDeploy, postDeploy, preDelete, postDelete
}
