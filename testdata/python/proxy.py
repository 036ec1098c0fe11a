"""Drives armlet with the Azure ML Python SDK v2 (azure-ai-ml 1.4.0) and its
built-in AzureCloud: nothing patched but pydash, armlet reached only through
its HTTPS proxy.

internal/app/pysdk_proxy_test.go runs this script with Debian's python3 and:

  HTTPS_PROXY: armlet's HTTPS proxy (connection.json's httpsProxy)
  REQUESTS_CA_BUNDLE: armlet's CA certificate
  ARMLET_TENANT_ID, ARMLET_SUBSCRIPTION_ID, ARMLET_CLIENT_ID,
  ARMLET_CLIENT_SECRET: the bootstrap principal
  ARMLET_RESOURCE_GROUP, ARMLET_WORKSPACE: a workspace made through ARM with
      a storage account armlet holds
  ARMLET_WORK_DIR: a directory the script may write (the model file, the
      job's code, the download)

No ARMLET_ARM_ENDPOINT, no cloud registered: the SDK goes to
management.azure.com, login.microsoftonline.com and
{account}.blob.core.windows.net as it does in Azure. Each step prints one
JSON line as mlv2.py's do.
"""

import os
import sys

from azure.ai.ml import MLClient, command
from azure.ai.ml.entities import AmlCompute, Environment, Model
from azure.identity import ClientSecretCredential
from steps import Steps, env


def main():
    steps = Steps(sys.stdout)
    sys.stdout = sys.stderr
    work = env("ARMLET_WORK_DIR")
    credential = ClientSecretCredential(env("ARMLET_TENANT_ID"), env("ARMLET_CLIENT_ID"), env("ARMLET_CLIENT_SECRET"))
    ml = MLClient(
        credential,
        subscription_id=env("ARMLET_SUBSCRIPTION_ID"),
        resource_group_name=env("ARMLET_RESOURCE_GROUP"),
        workspace_name=env("ARMLET_WORKSPACE"),
    )

    def workspace_get():
        w = ml.workspaces.get(env("ARMLET_WORKSPACE"))
        return {"name": w.name, "storage_account": w.storage_account}

    model_file = os.path.join(work, "model.pkl")
    with open(model_file, "wb") as f:
        f.write(b"armlet model bytes\n" * 1000)

    def model_create():
        m = ml.models.create_or_update(Model(name="clf-local", version="1", path=model_file, type="custom_model"))
        return {"name": m.name, "version": m.version, "path": m.path}

    def model_download():
        dest = os.path.join(work, "download")
        ml.models.download("clf-local", "1", download_path=dest)
        found = []
        for root, _, files in os.walk(dest):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    found.append({"name": name, "size": len(f.read())})
        return {"files": found}

    code_dir = os.path.join(work, "src")
    os.makedirs(code_dir, exist_ok=True)
    with open(os.path.join(code_dir, "train.py"), "w") as f:
        f.write("print('training')\n")

    def compute_create():
        c = ml.compute.begin_create_or_update(AmlCompute(name="cpu-cluster", size="STANDARD_DS3_V2", min_instances=0, max_instances=1)).result()
        return {"name": c.name, "provisioning_state": c.provisioning_state}

    def environment_create():
        e = ml.environments.create_or_update(Environment(name="train", version="1", image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"))
        return {"name": e.name, "version": e.version}

    def job_create():
        job = command(
            code=code_dir,
            command="python train.py",
            environment="train:1",
            compute="cpu-cluster",
            experiment_name="proxy",
            display_name="local-code-job",
        )
        j = ml.jobs.create_or_update(job)
        return {"name": j.name, "status": j.status, "code": j.code}

    for name, fn in [
        ("workspace_get", workspace_get),
        ("model_create", model_create),
        ("model_download", model_download),
        ("compute_create", compute_create),
        ("environment_create", environment_create),
        ("job_create", job_create),
    ]:
        steps.run(name, fn)
    sys.exit(1 if steps.failed else 0)


if __name__ == "__main__":
    main()
