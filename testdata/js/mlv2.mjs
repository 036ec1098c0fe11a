// A realistic Azure ML set-up scripted with the official JavaScript SDK
// (@azure/arm-machinelearning 2.1.1, api-version 2022-10-01) and
// @azure/identity, unmodified, against armlet. internal/app's
// TestJSSDKLegacyModeGating runs it; it exits non-zero with a message on the
// first check that fails.
//
// Story: a workspace created with v1LegacyMode true; a compute works (rule
// L5 exempts computes) but the v2 operations (environment, model, job,
// online endpoint) are refused with 400 UserError; a PUT turns
// v1LegacyMode off; the refusal now says the change is propagating; after
// the clock moves past the propagation delay the same calls succeed,
// including an online endpoint with two deployments and a 90/10 split.
import { ClientSecretCredential } from "@azure/identity";
import { AzureMachineLearningWorkspaces } from "@azure/arm-machinelearning";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const arm = env("ARMLET_ARM_ENDPOINT").replace(/\/$/, "");
const login = env("ARMLET_LOGIN_ENDPOINT").replace(/\/$/, "");
const tenant = env("ARMLET_TENANT_ID");
const sub = env("ARMLET_SUBSCRIPTION_ID");
const audience = env("ARMLET_AUDIENCE").replace(/\/$/, "");
const rg = env("ARMLET_RESOURCE_GROUP");
const ws = "jsws";
const fast = { updateIntervalInMs: 100 };

const credential = new ClientSecretCredential(tenant, env("ARMLET_CLIENT_ID"), env("ARMLET_CLIENT_SECRET"), {
  authorityHost: login,
  disableInstanceDiscovery: true,
});
const client = new AzureMachineLearningWorkspaces(credential, sub, {
  endpoint: arm,
  credentialScopes: [`${audience}/.default`],
});

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

function log(msg) {
  process.stdout.write(`${msg}\n`);
}

// refused runs fn and checks that armlet refused it with 400 UserError
// naming v1LegacyMode; it returns the message.
async function refused(what, fn) {
  try {
    await fn();
  } catch (e) {
    check(e.statusCode === 400, `${what}: status ${e.statusCode}, want 400 (${e.message})`);
    check(e.code === "UserError", `${what}: code ${e.code}, want UserError`);
    check(/v1LegacyMode/.test(e.message), `${what}: message does not name v1LegacyMode: ${e.message}`);
    log(`refused as expected: ${what}: ${e.message}`);
    return e.message;
  }
  throw new Error(`${what} succeeded while v1LegacyMode is in effect`);
}

async function advanceClock(duration) {
  const token = await credential.getToken(`${audience}/.default`);
  const resp = await fetch(`${arm}/_armlet/clock/advance`, {
    method: "POST",
    headers: { authorization: `Bearer ${token.token}`, "content-type": "application/json" },
    body: JSON.stringify({ duration }),
  });
  check(resp.ok, `clock advance: HTTP ${resp.status} ${await resp.text()}`);
}

const wsID = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.MachineLearningServices/workspaces/${ws}`;
const workspaceBody = (legacy) => ({
  location: "eastus",
  storageAccount: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/jsstore`,
  keyVault: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.KeyVault/vaults/jsvault`,
  v1LegacyMode: legacy,
});

const envBody = { properties: { image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest", description: "train env" } };
const modelBody = { properties: { modelUri: "azureml://subscriptions/x/resourcegroups/y/workspaces/jsws/datastores/workspaceblobstore/paths/model/", modelType: "custom_model" } };
const jobBody = (envID, computeID) => ({
  properties: { jobType: "Command", command: "python train.py", environmentId: envID, computeId: computeID, displayName: "train" },
});
const endpointBody = { location: "eastus", properties: { authMode: "Key", description: "scoring" } };
const deploymentBody = (modelID, envID) => ({
  location: "eastus",
  sku: { name: "Default", capacity: 1 },
  properties: {
    endpointComputeType: "Managed",
    model: modelID,
    environmentId: envID,
    instanceType: "Standard_DS3_v2",
  },
});

async function main() {
  // 1. The workspace, in legacy mode from the start.
  const created = await client.workspaces.beginCreateOrUpdateAndWait(rg, ws, workspaceBody(true), fast);
  check(created.v1LegacyMode === true, `created workspace v1LegacyMode = ${created.v1LegacyMode}`);
  log(`workspace ${created.id} created with v1LegacyMode true`);

  // 2. Computes are exempt from rule L5.
  const compute = await client.computeOperations.beginCreateOrUpdateAndWait(rg, ws, "cpu", {
    location: "eastus",
    properties: { computeType: "AmlCompute", properties: { vmSize: "STANDARD_DS3_V2", scaleSettings: { maxNodeCount: 2, minNodeCount: 0 } } },
  }, fast);
  check(compute.properties?.provisioningState === "Succeeded", `compute provisioningState = ${compute.properties?.provisioningState}`);
  log(`compute ${compute.id} created while in legacy mode`);

  // 3. The v2 operations are refused.
  const envID = `${wsID}/environments/train/versions/1`;
  const modelID = `${wsID}/models/clf/versions/1`;
  await refused("environment version", () => client.environmentVersions.createOrUpdate(rg, ws, "train", "1", envBody));
  await refused("model version", () => client.modelVersions.createOrUpdate(rg, ws, "clf", "1", modelBody));
  await refused("job", () => client.jobs.createOrUpdate(rg, ws, "job1", jobBody(envID, compute.id)));
  await refused("online endpoint", () => client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, "score", endpointBody, fast));

  // 4. Turn legacy mode off: GET shows false at once, the v2 API is still
  // refused while the change propagates.
  const updated = await client.workspaces.beginCreateOrUpdateAndWait(rg, ws, workspaceBody(false), fast);
  check(updated.v1LegacyMode === false, `updated workspace v1LegacyMode = ${updated.v1LegacyMode}`);
  const msg = await refused("environment version while propagating", () => client.environmentVersions.createOrUpdate(rg, ws, "train", "1", envBody));
  check(/propagating/.test(msg), `the refusal does not say the change is propagating: ${msg}`);

  // 5. After the propagation delay (at most 60 minutes) the same calls work.
  await advanceClock("61m");
  const envVersion = await client.environmentVersions.createOrUpdate(rg, ws, "train", "1", envBody);
  check(envVersion.id.toLowerCase() === envID.toLowerCase(), `environment version id = ${envVersion.id}`);
  const modelVersion = await client.modelVersions.createOrUpdate(rg, ws, "clf", "1", modelBody);
  check(modelVersion.properties?.modelUri === modelBody.properties.modelUri, `model version = ${JSON.stringify(modelVersion.properties)}`);
  const job = await client.jobs.createOrUpdate(rg, ws, "job1", jobBody(envVersion.id, compute.id));
  check(job.properties?.jobType === "Command", `job type = ${job.properties?.jobType}`);
  log(`job ${job.id} status ${job.properties?.status}`);

  const endpoint = await client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, "score", endpointBody, fast);
  check(endpoint.properties?.provisioningState === "Succeeded", `endpoint provisioningState = ${endpoint.properties?.provisioningState}`);
  check(/^https:\/\//.test(endpoint.properties?.scoringUri ?? ""), `endpoint scoringUri = ${endpoint.properties?.scoringUri}`);
  for (const name of ["blue", "green"]) {
    const d = await client.onlineDeployments.beginCreateOrUpdateAndWait(rg, ws, "score", name, deploymentBody(modelVersion.id, envVersion.id), fast);
    check(d.properties?.provisioningState === "Succeeded", `deployment ${name} provisioningState = ${d.properties?.provisioningState}`);
  }
  const split = await client.onlineEndpoints.beginCreateOrUpdateAndWait(rg, ws, "score",
    { ...endpointBody, properties: { ...endpointBody.properties, traffic: { blue: 90, green: 10 } } }, fast);
  check(split.properties?.traffic?.blue === 90 && split.properties?.traffic?.green === 10, `traffic = ${JSON.stringify(split.properties?.traffic)}`);
  const keys = await client.onlineEndpoints.listKeys(rg, ws, "score");
  check(keys.primaryKey && keys.secondaryKey && keys.primaryKey !== keys.secondaryKey, "endpoint keys");
  const deployments = [];
  for await (const d of client.onlineDeployments.list(rg, ws, "score")) deployments.push(d.name);
  check(deployments.sort().join(",") === "blue,green", `deployments = ${deployments}`);
  log(`online endpoint ${split.id} serves blue 90 / green 10`);
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
