import DeployerModel

extension SampleObjects {
    /// The permission pattern users rely on, as one multi-document YAML: stages `development`
    /// and `production`; infrastructure `dev` that everyone may view and deploy to; `prod` that
    /// everyone views, group `ci` deploys to and `platform-admins` administer; published
    /// services `churn` (data-scientists read, write and deploy; ci deploys) and `fraud`
    /// (fraud-team admin; data-scientists read; ci deploys); their four deployments
    /// `SERVICE-INFRASTRUCTURE`; and the secret `node-keys`.
    public static let permissionWorld = """
        apiVersion: apideployer.dev/v1alpha1
        kind: Stage
        metadata: {name: development}
        spec: {displayName: Development, order: 10}
        ---
        apiVersion: apideployer.dev/v1alpha1
        kind: Stage
        metadata: {name: production}
        spec: {displayName: Production, order: 30}
        ---
        apiVersion: apideployer.dev/v1alpha1
        kind: Infrastructure
        metadata: {name: dev}
        spec:
          stage: development
          type: static
          static: {nodes: [{name: a, url: "http://127.0.0.1:1", adminKeySecretRef: {name: node-keys, key: a}}]}
          permissions:
            - {group: everyone, view: true, deploy: true}
        ---
        apiVersion: apideployer.dev/v1alpha1
        kind: Infrastructure
        metadata: {name: prod}
        spec:
          stage: production
          type: static
          static: {nodes: [{name: a, url: "http://127.0.0.1:2", adminKeySecretRef: {name: node-keys, key: a}}]}
          permissions:
            - {group: everyone, view: true}
            - {group: ci, deploy: true}
            - {group: platform-admins, admin: true}
        ---
        apiVersion: apideployer.dev/v1alpha1
        kind: PublishedService
        metadata: {name: churn}
        spec:
          versions: [{version: v1, package: {sha256: "\(String(repeating: "a", count: 64))"}}]
          permissions:
            - {group: data-scientists, read: true, write: true, deploy: true}
            - {group: ci, deploy: true}
        ---
        apiVersion: apideployer.dev/v1alpha1
        kind: PublishedService
        metadata: {name: fraud}
        spec:
          versions: [{version: v1, package: {sha256: "\(String(repeating: "a", count: 64))"}}]
          permissions:
            - {group: fraud-team, admin: true}
            - {group: data-scientists, read: true}
            - {group: ci, deploy: true}
        ---
        apiVersion: apideployer.dev/v1alpha1
        kind: Secret
        metadata: {name: node-keys}
        stringData: {a: not-a-real-key}

        ---
        apiVersion: apideployer.dev/v1alpha1
        kind: ServiceDeployment
        metadata: {name: churn-dev}
        spec: {service: churn, infrastructure: dev, version: v1}
        ---
        apiVersion: apideployer.dev/v1alpha1
        kind: ServiceDeployment
        metadata: {name: churn-prod}
        spec: {service: churn, infrastructure: prod, version: v1}
        ---
        apiVersion: apideployer.dev/v1alpha1
        kind: ServiceDeployment
        metadata: {name: fraud-dev}
        spec: {service: fraud, infrastructure: dev, version: v1}
        ---
        apiVersion: apideployer.dev/v1alpha1
        kind: ServiceDeployment
        metadata: {name: fraud-prod}
        spec: {service: fraud, infrastructure: prod, version: v1}
        """
}
