"""Drives armlet with the Azure ML Python SDK v2 (azure-ai-ml 1.4.0), unmodified.

internal/app/pysdk_test.go runs this script with Debian's python3 and these
environment variables, taken from armlet's connection.json:

  ARMLET_ARM_ENDPOINT, ARMLET_LOGIN_ENDPOINT, ARMLET_TENANT_ID,
  ARMLET_SUBSCRIPTION_ID, ARMLET_CLIENT_ID, ARMLET_CLIENT_SECRET
  ARMLET_RESOURCE_GROUP, ARMLET_WORKSPACE: a workspace made through ARM
      (MLClient.workspaces.begin_create needs ARM template deployments)
  ARMLET_LEGACY_WORKSPACE: a workspace made at api-version 2021-07-01, so
      in v1 legacy mode
  ARMLET_REGISTRY: an Azure ML registry made through ARM, reached through
      its data plane (discovery, then the regional asset API)
  REQUESTS_CA_BUNDLE: armlet's CA certificate (azure-core sends through
      requests, which reads it)

and with testdata/python on PYTHONPATH for the pydash shim.

Each step prints one JSON line {"step", "ok", "details"} (or "error" and
"traceback" when it failed) on standard output; whatever the SDK prints (its
progress dots) goes to standard error instead. The script exits 1 when a step
failed, so the Go test can both fail on the exit status and say which step
broke.
"""

import sys

from azure.ai.ml import MLClient, command
from azure.ai.ml._azure_environments import _environments
from azure.ai.ml.entities import (
    AmlCompute,
    Environment,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
    Model,
    Workspace,
)
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from steps import Steps, env

CLOUD = "armlet"


def register_cloud():
    """Adds armlet as a cloud: azure-ai-ml 1.4.0 takes only names of this dict."""
    arm = env("ARMLET_ARM_ENDPOINT")
    _environments[CLOUD] = {
        "azure_portal": arm,
        "resource_manager": arm,
        "active_directory": env("ARMLET_LOGIN_ENDPOINT"),
        "aml_resource_id": "https://ml.azure.com/",
        "storage_endpoint": "core.windows.net",
        "registry_discovery_endpoint": arm,
    }


def pick(obj, *attrs):
    """The named attributes of an SDK entity, as a step's details."""
    return {a: getattr(obj, a) for a in attrs}


def names(entities):
    """The sorted names of listed SDK entities, as a step's details."""
    return {"names": sorted(e.name for e in entities)}


def client(credential, workspace):
    return MLClient(
        credential,
        subscription_id=env("ARMLET_SUBSCRIPTION_ID"),
        resource_group_name=env("ARMLET_RESOURCE_GROUP"),
        workspace_name=workspace,
        cloud=CLOUD,
    )


def main():
    # The step records own standard output; the SDK's own printing (progress
    # dots without a newline) would run into them.
    steps = Steps(sys.stdout)
    sys.stdout = sys.stderr
    register_cloud()
    credential = ClientSecretCredential(
        env("ARMLET_TENANT_ID"),
        env("ARMLET_CLIENT_ID"),
        env("ARMLET_CLIENT_SECRET"),
        authority=env("ARMLET_LOGIN_ENDPOINT"),
        instance_discovery=False,
    )
    ws_name = env("ARMLET_WORKSPACE")
    ml = client(credential, ws_name)

    def datastore_default():
        ds = ml.datastores.get_default()
        return {**pick(ds, "name", "account_name", "container_name"), **names(ml.datastores.list())}

    def compute_create():
        return pick(ml.compute.begin_create_or_update(
            AmlCompute(name="cpu-cluster", size="STANDARD_DS3_V2", min_instances=1, max_instances=2)).result(),
            "name", "type", "size", "provisioning_state")

    def job_create():
        return pick(ml.jobs.create_or_update(command(
            name="hello-job", display_name="hello", experiment_name="pysdk",
            command="echo hello", environment="azureml:train:1", compute="cpu-cluster")),
            "name", "status", "compute", "environment")

    def job_cancel():
        ml.jobs.begin_cancel("hello-job").result()
        return pick(ml.jobs.get("hello-job"), "status")

    def endpoint_traffic():
        e = ml.online_endpoints.get("score-ep")
        e.traffic = {"blue": 100}
        return pick(ml.online_endpoints.begin_create_or_update(e).result(), "traffic")

    def endpoint_get():
        d = ml.online_deployments.get("blue", endpoint_name="score-ep")
        return {**pick(ml.online_endpoints.get("score-ep"), "traffic"), **pick(d, "model", "provisioning_state"),
                "deployment": d.name}

    def legacy_refused():
        legacy = client(credential, env("ARMLET_LEGACY_WORKSPACE"))
        try:
            listed = names(legacy.jobs.list())
        except HttpResponseError as e:
            return {"status": e.status_code, "message": str(e)}
        raise AssertionError(f"jobs.list of a workspace in v1 legacy mode succeeded: {listed}")

    def workspace_begin_create():
        # The SDK deploys its own ARM template (workspace_base.json): a
        # storage account, key vault, Application Insights, the
        # workspace, and nested deployments of a default resource group
        # and Log Analytics workspace.
        made = ml.workspaces.begin_create(Workspace(
            name="pycreated", location="eastus", description="made by begin_create")).result()
        return pick(made, "name", "location", "description", "storage_account", "key_vault", "application_insights")

    def registry_client():
        return MLClient(credential, subscription_id=env("ARMLET_SUBSCRIPTION_ID"),
                        resource_group_name=env("ARMLET_RESOURCE_GROUP"), registry_name=env("ARMLET_REGISTRY"), cloud=CLOUD)

    def registry_model_create():
        # Discovery, a temporary data reference (the upload target), then
        # the version's long-running PUT, all on the registry's endpoint.
        made = registry_client().models.create_or_update(Model(
            name="shared-clf", version="1", type="custom_model", path="https://models.example.com/clf/model.pkl",
            description="shared through the registry"))
        return pick(made, "name", "version", "path", "description")

    model_path = "azureml://datastores/workspaceblobstore/paths/models/clf/model.pkl"
    image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"
    for name, fn in [
        ("workspace_get", lambda: pick(ml.workspaces.get(ws_name), "name", "location", "storage_account")),
        ("workspace_list", lambda: names(ml.workspaces.list())),
        ("datastore_default", datastore_default),
        ("compute_create", compute_create),
        ("compute_get", lambda: pick(ml.compute.get("cpu-cluster"), "name", "type", "max_instances")),
        ("compute_list", lambda: names(ml.compute.list())),
        ("compute_nodes", lambda: {"nodes": [n.node_id for n in ml.compute.list_nodes("cpu-cluster")]}),
        ("environment_create", lambda: pick(ml.environments.create_or_update(Environment(
            name="train", version="1", image=image, description="image-based environment")), "name", "version", "image")),
        ("environment_get", lambda: pick(ml.environments.get("train", version="1"), "name", "version", "image")),
        ("job_create", job_create),
        ("job_get", lambda: pick(ml.jobs.get("hello-job"), "name", "status", "experiment_name")),
        ("job_list", lambda: names(ml.jobs.list())),
        ("job_cancel", job_cancel),
        ("model_create", lambda: pick(ml.models.create_or_update(Model(
            name="clf", version="1", type="custom_model", path=model_path)), "name", "version", "path", "type")),
        ("model_get", lambda: pick(ml.models.get("clf", version="1"), "name", "version", "path")),
        ("endpoint_create", lambda: pick(ml.online_endpoints.begin_create_or_update(
            ManagedOnlineEndpoint(name="score-ep", auth_mode="key", description="pysdk")).result(),
            "name", "auth_mode", "provisioning_state", "scoring_uri")),
        ("deployment_create", lambda: pick(ml.online_deployments.begin_create_or_update(ManagedOnlineDeployment(
            name="blue", endpoint_name="score-ep", model="azureml:clf:1", environment="azureml:train:1",
            instance_type="Standard_DS3_v2", instance_count=1)).result(), "name", "instance_type", "provisioning_state")),
        ("endpoint_traffic", endpoint_traffic),
        ("endpoint_get", endpoint_get),
        ("legacy_refused", legacy_refused),
        ("workspace_begin_create", workspace_begin_create),
        ("registry_model_create", registry_model_create),
        ("registry_model_get", lambda: pick(registry_client().models.get("shared-clf", version="1"), "name", "version", "path")),
    ]:
        steps.run(name, fn)
    if steps.failed:
        print(f"mlv2.py: failed steps: {', '.join(steps.failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
