package machinelearning

// Schemas of Microsoft.MachineLearningServices/workspaces/computes
// (ComputeResource.properties, the Compute union on computeType, Go SDK
// armmachinelearning/v4, api-version 2024-04-01).

// Compute types (ComputeType).
const (
	computeAKS               = "AKS"
	computeAmlCompute        = "AmlCompute"
	computeInstance          = "ComputeInstance"
	computeDataFactory       = "DataFactory"
	computeDataLakeAnalytics = "DataLakeAnalytics"
	computeDatabricks        = "Databricks"
	computeHDInsight         = "HDInsight"
	computeKubernetes        = "Kubernetes"
	computeSynapseSpark      = "SynapseSpark"
	computeVirtualMachine    = "VirtualMachine"
)

// Resource types the attached computes name in resourceId.
const (
	typeManagedClusters   = "Microsoft.ContainerService/managedClusters"
	typeVirtualMachines   = "Microsoft.Compute/virtualMachines"
	typeHDInsightClusters = "Microsoft.HDInsight/clusters"
	typeDataFactories     = "Microsoft.DataFactory/factories"
	typeDatabricks        = "Microsoft.Databricks/workspaces"
	typeDataLakeAccounts  = "Microsoft.DataLakeAnalytics/accounts"
	typeSynapseSparkPools = "Microsoft.Synapse/workspaces/bigDataPools"
)

var (
	subnetRef = object("ResourceId", map[string]*field{"id": armID(typeSubnets)}, "id")

	errorResponses = arrayOf(anyJSON()).ro()

	scaleSettings = object("ScaleSettings", map[string]*field{
		"maxNodeCount":                integer(),
		"minNodeCount":                integer(),
		"nodeIdleTimeBeforeScaleDown": str(),
	}, "maxNodeCount")

	sshCredentials = object("VirtualMachineSshCredentials", map[string]*field{
		"username":       str(),
		"password":       str(),
		"publicKeyData":  str(),
		"privateKeyData": str(),
	})

	// amlComputeProperties is AmlComputeProperties, transcribed whole.
	amlComputeProperties = object("AmlComputeProperties", map[string]*field{
		"enableNodePublicIp":          boolean(),
		"isolatedNetwork":             boolean(),
		"osType":                      enum("OsType", "Linux", "Windows"),
		"propertyBag":                 anyJSON(),
		"remoteLoginPortPublicAccess": enum("RemoteLoginPortPublicAccess", "Enabled", "Disabled", "NotSpecified"),
		"scaleSettings":               scaleSettings,
		"subnet":                      subnetRef,
		"userAccountCredentials": object("UserAccountCredentials", map[string]*field{
			"adminUserName":         str(),
			"adminUserPassword":     str(),
			"adminUserSshPublicKey": str(),
		}, "adminUserName"),
		"vmPriority":          enum("VmPriority", "Dedicated", "LowPriority"),
		"vmSize":              str(),
		"virtualMachineImage": object("VirtualMachineImage", map[string]*field{"id": str()}, "id"),

		"allocationState":               str().ro(),
		"allocationStateTransitionTime": str().ro(),
		"currentNodeCount":              integer().ro(),
		"errors":                        errorResponses,
		"nodeStateCounts":               anyJSON().ro(),
		"targetNodeCount":               integer().ro(),
	})

	scriptReference = object("ScriptReference", map[string]*field{
		"scriptSource":    str(),
		"scriptData":      str(),
		"scriptArguments": str(),
		"timeout":         str(),
	})

	// computeInstanceProperties is ComputeInstanceProperties; it is open
	// (newer api-versions add members such as idleTimeBeforeShutdown), and
	// custom services and schedules are kept as sent.
	computeInstanceProperties = object("ComputeInstanceProperties", map[string]*field{
		"applicationSharingPolicy":         enum("ApplicationSharingPolicy", "Personal", "Shared"),
		"computeInstanceAuthorizationType": enum("ComputeInstanceAuthorizationType", "personal"),
		"customServices":                   arrayOf(object("CustomService", nil).opened()),
		"enableNodePublicIp":               boolean(),
		"personalComputeInstanceSettings": object("PersonalComputeInstanceSettings", map[string]*field{
			"assignedUser": object("AssignedUser", map[string]*field{
				"objectId": str(),
				"tenantId": str(),
			}, "objectId", "tenantId"),
		}),
		"sshSettings": object("ComputeInstanceSshSettings", map[string]*field{
			"adminPublicKey":  str(),
			"sshPublicAccess": enum("SshPublicAccess", "Enabled", "Disabled"),
			"adminUserName":   str().ro(),
			"sshPort":         integer().ro(),
		}),
		"schedules": object("ComputeSchedules", map[string]*field{
			"computeStartStop": arrayOf(object("ComputeStartStopSchedule", nil).opened()),
		}),
		"setupScripts": object("SetupScripts", map[string]*field{
			"scripts": object("ScriptsToExecute", map[string]*field{
				"creationScript": scriptReference,
				"startupScript":  scriptReference,
			}),
		}),
		"subnet": subnetRef,
		"vmSize": str(),

		"applications":          anyJSON().ro(),
		"connectivityEndpoints": anyJSON().ro(),
		"containers":            anyJSON().ro(),
		"createdBy":             anyJSON().ro(),
		"dataDisks":             anyJSON().ro(),
		"dataMounts":            anyJSON().ro(),
		"errors":                errorResponses,
		"lastOperation":         anyJSON().ro(),
		"osImageMetadata":       anyJSON().ro(),
		"state":                 str().ro(),
		"versions":              anyJSON().ro(),
	}).opened()

	// aksProperties is AKSSchemaProperties (open: systemServices and later
	// additions are kept as sent).
	aksProperties = object("AKSSchemaProperties", map[string]*field{
		"agentCount":  integer(),
		"agentVmSize": str(),
		"aksNetworkingConfiguration": object("AksNetworkingConfiguration", map[string]*field{
			"dnsServiceIP":     str(),
			"dockerBridgeCidr": str(),
			"serviceCidr":      str(),
			"subnetId":         armID(typeSubnets),
		}),
		"clusterFqdn":        str(),
		"clusterPurpose":     enum("ClusterPurpose", "FastProd", "DenseProd", "DevTest"),
		"loadBalancerSubnet": str(),
		"loadBalancerType":   enum("LoadBalancerType", "PublicIp", "InternalLoadBalancer"),
		"sslConfiguration": object("SslConfiguration", map[string]*field{
			"cert":                    str(),
			"cname":                   str(),
			"key":                     str(),
			"leafDomainLabel":         str(),
			"overwriteExistingDomain": boolean(),
			"status":                  enum("SslConfigStatus", "Disabled", "Enabled", "Auto"),
		}),
		"systemServices": anyJSON().ro(),
	}).opened()

	// kubernetesProperties is KubernetesProperties (open: instanceTypes
	// are kept as sent).
	kubernetesProperties = object("KubernetesProperties", map[string]*field{
		"defaultInstanceType":           str(),
		"extensionInstanceReleaseTrain": str(),
		"extensionPrincipalId":          str(),
		"instanceTypes":                 mapOf(anyJSON()),
		"namespace":                     str(),
		"relayConnectionString":         str(),
		"serviceBusConnectionString":    str(),
		"vcName":                        str(),
	}).opened()

	virtualMachineProperties = object("VirtualMachineSchemaProperties", map[string]*field{
		"address":                   str(),
		"administratorAccount":      sshCredentials,
		"isNotebookInstanceCompute": boolean(),
		"notebookServerPort":        integer(),
		"sshPort":                   integer(),
		"virtualMachineSize":        str(),
	})

	hdInsightProperties = object("HDInsightProperties", map[string]*field{
		"address":              str(),
		"administratorAccount": sshCredentials,
		"sshPort":              integer(),
	})

	databricksProperties = object("DatabricksProperties", map[string]*field{
		"databricksAccessToken": str(),
		"workspaceUrl":          str(),
	})

	dataLakeAnalyticsProperties = object("DataLakeAnalyticsSchemaProperties", map[string]*field{
		"dataLakeStoreAccountName": str(),
	})

	synapseSparkProperties = object("SynapseSparkProperties", map[string]*field{
		"autoPauseProperties": object("AutoPauseProperties", map[string]*field{
			"delayInMinutes": integer(),
			"enabled":        boolean(),
		}),
		"autoScaleProperties": object("AutoScaleProperties", map[string]*field{
			"enabled":      boolean(),
			"maxNodeCount": integer(),
			"minNodeCount": integer(),
		}),
		"nodeCount":      integer(),
		"nodeSize":       str(),
		"nodeSizeFamily": str(),
		"poolName":       str(),
		"resourceGroup":  str(),
		"sparkVersion":   str(),
		"subscriptionId": str(),
		"workspaceName":  str(),
	})

	// computeSchema is the Compute union. Attached types require the
	// resourceId of the resource they attach.
	computeSchema = func() *field {
		variant := func(typeName string, props *field, resourceType string, attached bool) *field {
			fields := map[string]*field{
				"computeType":        str(),
				"computeLocation":    str(),
				"description":        str(),
				"disableLocalAuth":   boolean(),
				"resourceId":         armID(resourceType),
				"createdOn":          str().ro(),
				"modifiedOn":         str().ro(),
				"isAttachedCompute":  boolean().ro(),
				"provisioningErrors": errorResponses,
				"provisioningState":  str().ro(),
			}
			if props != nil {
				fields["properties"] = props
			}
			required := []string{"computeType"}
			if attached {
				required = append(required, "resourceId")
			}
			return object(typeName, fields, required...)
		}
		return &field{kind: kUnion, typeName: "Compute", discriminator: "computeType", discType: "ComputeType", variants: map[string]*field{
			computeAmlCompute:     variant("AmlCompute", amlComputeProperties, "", false),
			computeInstance:       variant("ComputeInstance", computeInstanceProperties, "", false),
			computeAKS:            variant("AKS", aksProperties, typeManagedClusters, false),
			computeKubernetes:     variant("Kubernetes", kubernetesProperties, "", true),
			computeVirtualMachine: variant("VirtualMachine", virtualMachineProperties, typeVirtualMachines, true),
			computeHDInsight:      variant("HDInsight", hdInsightProperties, typeHDInsightClusters, true),
			// Azure's example Data Factory compute has no resourceId.
			computeDataFactory:       variant("DataFactory", nil, typeDataFactories, false),
			computeDatabricks:        variant("Databricks", databricksProperties, typeDatabricks, true),
			computeDataLakeAnalytics: variant("DataLakeAnalytics", dataLakeAnalyticsProperties, typeDataLakeAccounts, true),
			computeSynapseSpark:      variant("SynapseSpark", synapseSparkProperties, typeSynapseSparkPools, true),
		}}
	}()

	// computeSecretPaths are the members of properties.properties a GET
	// does not show (listKeys does, for the types that have secrets).
	computeSecretPaths = map[string][][]string{
		computeAmlCompute:     {{"userAccountCredentials", "adminUserPassword"}},
		computeAKS:            {{"sslConfiguration", "key"}},
		computeKubernetes:     {{"relayConnectionString"}, {"serviceBusConnectionString"}},
		computeVirtualMachine: {{"administratorAccount", "password"}, {"administratorAccount", "privateKeyData"}},
		computeHDInsight:      {{"administratorAccount", "password"}, {"administratorAccount", "privateKeyData"}},
		computeDatabricks:     {{"databricksAccessToken"}},
	}
)

// attachedTypes attach an existing resource (isAttachedCompute true);
// AKS is attached when it names one.
var attachedTypes = map[string]bool{
	computeKubernetes: true, computeVirtualMachine: true, computeHDInsight: true, computeDataFactory: true,
	computeDatabricks: true, computeDataLakeAnalytics: true, computeSynapseSpark: true,
}
