// The rules spike-bootstrap's Kubernetes objects must follow beyond the
// Kubernetes schemas: the Job's failure policy, hardening, environment and
// hook annotations, and least privilege in its Role. checkRules() appends
// one readable line per broken rule to problems.
"use strict";

// Every variable spike-bootstrap reads, which the Job sets explicitly so that
// an operator sees each value in one place.
const kRequiredEnv = [
  "SPIFFE_ENDPOINT_SOCKET",
  "SPIKE_NEXUS_KEEPER_PEERS",
  "SPIKE_NEXUS_SHAMIR_SHARES",
  "SPIKE_NEXUS_SHAMIR_THRESHOLD",
  "SPIKE_NEXUS_API_URL",
  "SPIKE_TRUST_ROOT",
  "SPIKE_TRUST_ROOT_BOOTSTRAP",
  "SPIKE_TRUST_ROOT_KEEPER",
  "SPIKE_TRUST_ROOT_NEXUS",
  "SPIKE_NEXUS_BACKEND_STORE",
  "SPIKE_BOOTSTRAP_FORCE",
  "SPIKE_BOOTSTRAP_CONFIGMAP_NAME",
  "SPIKE_BOOTSTRAP_TIMEOUT",
  "SPIKE_BOOTSTRAP_KEEPER_TIMEOUT",
  "SPIKE_BOOTSTRAP_KEEPER_MAX_RETRIES",
  "SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL",
  "SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL",
  "SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT",
  "SPIKE_SPIFFE_SOURCE_TIMEOUT",
  "SPIKE_BOOTSTRAP_LEASE_DURATION",
  "SPIKE_SYSTEM_LOG_LEVEL",
  "SPIKE_BOOTSTRAP_SERVICEACCOUNT_DIR",
];

const kDurationVariables = [
  "SPIKE_BOOTSTRAP_TIMEOUT",
  "SPIKE_BOOTSTRAP_KEEPER_TIMEOUT",
  "SPIKE_BOOTSTRAP_KEEPER_RETRY_INITIAL_INTERVAL",
  "SPIKE_BOOTSTRAP_KEEPER_RETRY_MAX_INTERVAL",
  "SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT",
  "SPIKE_SPIFFE_SOURCE_TIMEOUT",
  "SPIKE_BOOTSTRAP_LEASE_DURATION",
];

const kCsiDriver = "csi.spiffe.io";

// Seconds in each Go duration unit.
const kDurationUnits = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

// Returns a Go duration ("1m30s", "0") in seconds, or null when it does not parse.
function parseGoDuration(text) {
  if (text === "0") {
    return 0;
  }
  const part = /([0-9]*\.?[0-9]+|[0-9]+\.)(ns|us|µs|μs|ms|s|m|h)/y;
  let seconds = 0;
  let position = 0;
  while (position < text.length) {
    part.lastIndex = position;
    const match = part.exec(text);
    if (!match) {
      return null;
    }
    seconds += parseFloat(match[1]) * kDurationUnits[match[2]];
    position = part.lastIndex;
  }
  return text.length > 0 ? seconds : null;
}

// Splits a comma-separated annotation value into trimmed entries.
function listAnnotation(value) {
  return (value || "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
}

function checkFailurePolicy(spec, containerName, problem) {
  for (const field of ["backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"]) {
    if (!Number.isInteger(spec[field])) {
      problem(`spec.${field} is not set to an integer`);
    }
  }
  const rules = (spec.podFailurePolicy && spec.podFailurePolicy.rules) || [];
  const failsAtOnce = rules.some(
    (rule) =>
      rule.action === "FailJob" &&
      rule.onExitCodes &&
      rule.onExitCodes.operator === "In" &&
      [2, 3].every((code) => rule.onExitCodes.values.includes(code)) &&
      (!rule.onExitCodes.containerName || rule.onExitCodes.containerName === containerName),
  );
  if (!failsAtOnce) {
    problem(
      `spec.podFailurePolicy has no FailJob rule for exit codes 2 and 3 of container ${containerName}`,
    );
  }
}

function checkHardening(podSpec, container, problem) {
  const pod = podSpec.securityContext || {};
  const own = container.securityContext || {};
  if (podSpec.restartPolicy !== "Never") {
    problem("restartPolicy must be Never, which podFailurePolicy requires");
  }

  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (podSpec[field]) {
      problem(`${field} must not be set`);
    }
  }
  if (pod.runAsNonRoot !== true && own.runAsNonRoot !== true) {
    problem("runAsNonRoot is not true");
  }
  if (pod.runAsUser === 0 || own.runAsUser === 0) {
    problem("runAsUser is 0 (root)");
  }
  const seccomp = own.seccompProfile || pod.seccompProfile || {};
  if (seccomp.type !== "RuntimeDefault") {
    problem("seccompProfile.type is not RuntimeDefault");
  }

  if (own.allowPrivilegeEscalation !== false) {
    problem("container allowPrivilegeEscalation is not false");
  }
  if (own.readOnlyRootFilesystem !== true) {
    problem("container readOnlyRootFilesystem is not true");
  }
  if (own.privileged === true) {
    problem("container is privileged");
  }
  const capabilities = own.capabilities || {};
  if (!(capabilities.drop || []).includes("ALL")) {
    problem("container capabilities do not drop ALL");
  }
  if ((capabilities.add || []).length > 0) {
    problem(`container adds capabilities ${capabilities.add.join(", ")}`);
  }

  const resources = container.resources || {};
  for (const kind of ["requests", "limits"]) {
    for (const resource of ["cpu", "memory"]) {
      if (!(resources[kind] && resources[kind][resource])) {
        problem(`container resources.${kind}.${resource} is not set`);
      }
    }
  }
}

function checkWorkloadApi(podSpec, container, env, problem) {
  const socket = env.SPIFFE_ENDPOINT_SOCKET || "";
  const csiVolumes = (podSpec.volumes || []).filter(
    (volume) => volume.csi && volume.csi.driver === kCsiDriver,
  );
  if (csiVolumes.length !== 1) {
    problem(`expected one volume of the ${kCsiDriver} CSI driver, found ${csiVolumes.length}`);
    return;
  }
  const mount = (container.volumeMounts || []).find((m) => m.name === csiVolumes[0].name);
  if (!mount) {
    problem(`the ${kCsiDriver} volume is not mounted in the container`);
    return;
  }
  if (mount.readOnly !== true) {
    problem(`the ${kCsiDriver} volume mount is not readOnly`);
  }
  if (!socket.startsWith(`unix://${mount.mountPath}/`)) {
    problem(`SPIFFE_ENDPOINT_SOCKET ${socket} is not under the CSI mount ${mount.mountPath}`);
  }
}

// Returns the container's environment as name -> value. A variable from the
// downward API maps to "fieldRef:<path>".
function readEnv(container, problem) {
  const env = {};
  for (const variable of container.env || []) {
    if (variable.name in env) {
      problem(`environment variable ${variable.name} is set twice`);
    }
    if (variable.valueFrom && variable.valueFrom.fieldRef) {
      env[variable.name] = `fieldRef:${variable.valueFrom.fieldRef.fieldPath}`;
    } else {
      env[variable.name] = variable.value === undefined ? "" : String(variable.value);
    }
  }
  return env;
}

function checkEnv(spec, env, expectedEnv, problem) {
  for (const name of kRequiredEnv) {
    if (!(name in env)) {
      problem(`environment variable ${name} is not set`);
    }
  }
  if (env.POD_NAME !== "fieldRef:metadata.name") {
    problem("POD_NAME does not come from the downward API (metadata.name)");
  }
  if (env.POD_NAMESPACE !== "fieldRef:metadata.namespace") {
    problem("POD_NAMESPACE does not come from the downward API (metadata.namespace)");
  }

  const shares = Number(env.SPIKE_NEXUS_SHAMIR_SHARES);
  const threshold = Number(env.SPIKE_NEXUS_SHAMIR_THRESHOLD);
  if (!Number.isInteger(shares) || shares < 1) {
    problem(`SPIKE_NEXUS_SHAMIR_SHARES ${env.SPIKE_NEXUS_SHAMIR_SHARES} is not a positive integer`);
  }
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > shares) {
    problem(
      `SPIKE_NEXUS_SHAMIR_THRESHOLD ${env.SPIKE_NEXUS_SHAMIR_THRESHOLD} is not from 1 to ${shares}`,
    );
  }
  const peers = (env.SPIKE_NEXUS_KEEPER_PEERS || "").split(",");
  if (peers.length !== shares) {
    problem(`SPIKE_NEXUS_KEEPER_PEERS lists ${peers.length} keepers for ${shares} shares`);
  }
  for (const peer of peers) {
    if (!/^https:\/\/[^\s/?#@,]+(\/[^\s?#,]*)?$/.test(peer)) {
      problem(`keeper URL "${peer}" is not an https URL with a host`);
    }
  }
  if (new Set(peers).size !== peers.length) {
    problem("SPIKE_NEXUS_KEEPER_PEERS lists a keeper twice");
  }
  // A full service DNS name (<service>.<namespace>.svc.<cluster domain>)
  // resolves from every namespace.
  if (
    !/^https:\/\/[a-z0-9-]+\.[a-z0-9-]+\.svc\.[a-z0-9.-]+(:\d+)?(\/|$)/.test(
      env.SPIKE_NEXUS_API_URL || "",
    )
  ) {
    problem(
      `SPIKE_NEXUS_API_URL ${env.SPIKE_NEXUS_API_URL} is not https://<service>.<namespace>.svc.<domain>`,
    );
  }
  if (!["sqlite", "lite", "memory"].includes(env.SPIKE_NEXUS_BACKEND_STORE)) {
    problem(
      `SPIKE_NEXUS_BACKEND_STORE ${env.SPIKE_NEXUS_BACKEND_STORE} is not sqlite, lite or memory`,
    );
  }
  if (!["true", "false"].includes(env.SPIKE_BOOTSTRAP_FORCE)) {
    problem(`SPIKE_BOOTSTRAP_FORCE ${env.SPIKE_BOOTSTRAP_FORCE} is not true or false`);
  }
  for (const name of kDurationVariables) {
    if (name in env && parseGoDuration(env[name]) === null) {
      problem(`${name} ${env[name]} is not a Go duration`);
    }
  }
  // The Job's deadline has to leave time for the wait on Nexus.
  const verification = parseGoDuration(env.SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT || "");
  if (
    verification &&
    Number.isInteger(spec.activeDeadlineSeconds) &&
    spec.activeDeadlineSeconds <= verification
  ) {
    problem(
      `activeDeadlineSeconds ${spec.activeDeadlineSeconds} does not exceed ` +
        `SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT ${env.SPIKE_BOOTSTRAP_INIT_VERIFICATION_TIMEOUT}`,
    );
  }
  for (const [name, value] of Object.entries(expectedEnv)) {
    if (env[name] !== value) {
      problem(`${name} is "${env[name]}", expected "${value}"`);
    }
  }
}

function checkHookAnnotations(job, others, mode, problem) {
  const annotations = job.metadata.annotations || {};
  const helmHook = listAnnotation(annotations["helm.sh/hook"]);
  const argoHook = annotations["argocd.argoproj.io/hook"];
  if (mode === "helm-hook") {
    for (const hook of ["post-install", "post-upgrade"]) {
      if (!helmHook.includes(hook)) {
        problem(`helm.sh/hook does not include ${hook}`);
      }
    }
    const policy = listAnnotation(annotations["helm.sh/hook-delete-policy"]);
    for (const required of ["before-hook-creation", "hook-succeeded"]) {
      if (!policy.includes(required)) {
        problem(`helm.sh/hook-delete-policy does not include ${required}`);
      }
    }
    if (policy.includes("hook-failed")) {
      problem(
        "helm.sh/hook-delete-policy includes hook-failed, which deletes a failed Job and its logs",
      );
    }
  } else if (helmHook.length > 0) {
    problem(`helm.sh/hook is set in ${mode} mode`);
  }

  if (mode === "argocd") {
    if (argoHook !== "Sync") {
      problem(`argocd.argoproj.io/hook is "${argoHook}", expected Sync`);
    }
    const wave = Number(annotations["argocd.argoproj.io/sync-wave"]);
    if (!Number.isInteger(wave)) {
      problem("argocd.argoproj.io/sync-wave is not an integer");
    }
    if (
      listAnnotation(annotations["argocd.argoproj.io/hook-delete-policy"]).includes("HookFailed")
    ) {
      problem(
        "argocd.argoproj.io/hook-delete-policy includes HookFailed, which deletes a failed Job and its logs",
      );
    }
    for (const other of others) {
      const otherWave = Number(
        ((other.metadata || {}).annotations || {})["argocd.argoproj.io/sync-wave"] || 0,
      );
      if (!(otherWave < wave)) {
        problem(
          `${other.kind} ${other.metadata.name} is in sync wave ${otherWave}, not before the Job's ${wave}`,
        );
      }
    }
  } else if (argoHook !== undefined) {
    problem(`argocd.argoproj.io/hook is set in ${mode} mode`);
  }
}

// Checks that the Role grants exactly what spike-bootstrap uses: create on
// configmaps (RBAC cannot narrow create by name), get, update and patch on the
// state ConfigMap only, and optionally create on core events.
function checkRole(role, configMapName, problem) {
  let canCreate = false;
  let canChange = false;
  for (const rule of role.rules || []) {
    const groups = rule.apiGroups || [];
    const resources = rule.resources || [];
    const verbs = rule.verbs || [];
    const names = rule.resourceNames || [];
    const where = `rule ${JSON.stringify({ resources, verbs, resourceNames: names })}`;
    if (
      groups.length !== 1 ||
      groups[0] !== "" ||
      [...resources, ...verbs, ...names].includes("*")
    ) {
      problem(`Role ${where} reaches beyond the core API group or uses "*"`);
      continue;
    }
    for (const resource of resources) {
      if (resource === "events") {
        if (verbs.some((verb) => verb !== "create")) {
          problem(`Role ${where} grants more than create on events`);
        }
      } else if (resource === "configmaps") {
        const unnamed = verbs.filter((verb) => verb !== "create");
        if (names.length === 0 && unnamed.length > 0) {
          problem(`Role ${where} grants ${unnamed.join(", ")} on every ConfigMap`);
        }
        if (names.length > 0 && (names.length !== 1 || names[0] !== configMapName)) {
          problem(`Role ${where} names ConfigMaps other than ${configMapName}`);
        }
        if (verbs.some((verb) => !["create", "get", "update", "patch"].includes(verb))) {
          problem(`Role ${where} grants verbs spike-bootstrap does not use`);
        }
        canCreate = canCreate || (verbs.includes("create") && names.length === 0);
        canChange =
          canChange ||
          (names[0] === configMapName &&
            ["get", "update", "patch"].every((v) => verbs.includes(v)));
      } else {
        problem(`Role ${where} grants access to ${resource}, which spike-bootstrap does not use`);
      }
    }
  }
  if (!canCreate) {
    problem("Role does not grant create on configmaps");
  }
  if (!canChange) {
    problem(`Role does not grant get, update and patch on ConfigMap ${configMapName}`);
  }
}

function checkBinding(objects, role, serviceAccountName, namespace, problem) {
  const bound = objects.some(
    (object) =>
      object.kind === "RoleBinding" &&
      object.roleRef &&
      object.roleRef.kind === "Role" &&
      object.roleRef.name === role.metadata.name &&
      (object.subjects || []).some(
        (subject) =>
          subject.kind === "ServiceAccount" &&
          subject.name === serviceAccountName &&
          subject.namespace === namespace,
      ),
  );
  if (!bound) {
    problem(
      `no RoleBinding binds Role ${role.metadata.name} to ServiceAccount ${serviceAccountName}`,
    );
  }
}

function checkJob(job, objects, options, problems) {
  const label = `Job ${job.metadata.name}`;
  const problem = (message) => problems.push(`${label}: ${message}`);
  const spec = job.spec || {};
  const template = spec.template || {};
  const podSpec = template.spec || {};
  const containers = podSpec.containers || [];
  if (containers.length !== 1) {
    problem(`expected one container, found ${containers.length}`);
    return;
  }
  const container = containers[0];
  const env = readEnv(container, problem);

  checkFailurePolicy(spec, container.name, problem);
  checkHardening(podSpec, container, problem);
  checkWorkloadApi(podSpec, container, env, problem);
  checkEnv(spec, env, options.expectedEnv, problem);

  if (JSON.stringify(container.args) !== JSON.stringify(["-init"])) {
    problem(`container args are ${JSON.stringify(container.args)}, expected ["-init"]`);
  }
  const labels = (template.metadata && template.metadata.labels) || {};
  if (labels.component !== "spike-bootstrap") {
    problem("pod label component is not spike-bootstrap, which SPIRE's registration selects on");
  }
  for (const name of ["release", "release-namespace"]) {
    if (!labels[name]) {
      problem(`pod label ${name} is not set`);
    }
  }
  if (podSpec.automountServiceAccountToken === false) {
    problem("automountServiceAccountToken is false, but the ConfigMap needs the token");
  }
  const serviceAccountName = podSpec.serviceAccountName || "default";
  const namespace = job.metadata.namespace;
  const rbacObjects = objects.filter((object) =>
    ["ServiceAccount", "Role", "RoleBinding"].includes(object.kind),
  );
  checkHookAnnotations(job, rbacObjects, options.mode, problem);

  const role = objects.find((object) => object.kind === "Role");
  if (role) {
    checkRole(role, env.SPIKE_BOOTSTRAP_CONFIGMAP_NAME, problem);
    checkBinding(objects, role, serviceAccountName, namespace, problem);
  }
  const serviceAccountCreated = objects.some((object) => object.kind === "ServiceAccount");
  if (
    serviceAccountCreated &&
    !objects.some(
      (object) => object.kind === "ServiceAccount" && object.metadata.name === serviceAccountName,
    )
  ) {
    problem(`ServiceAccount ${serviceAccountName} is not among the objects`);
  }
}

function checkRules(objects, options, problems) {
  const jobs = objects.filter((object) => object && object.kind === "Job");
  if (jobs.length !== 1) {
    problems.push(`expected one Job, found ${jobs.length}`);
    return;
  }
  checkJob(jobs[0], objects, options, problems);
}

module.exports = { checkRules, parseGoDuration };
