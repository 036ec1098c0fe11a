package machinelearning

import "maps"

// The job definition (JobBaseProperties, api-version 2024-04-01), a union
// on jobType. Command, Sweep and Pipeline jobs are transcribed member by
// member from the Go SDK's models; AutoML and Spark jobs are checked at
// their top level, with their large nested shapes (taskDetails) kept open.

// Job statuses (JobStatus) armlet shows.
const (
	jobNotStarted      = "NotStarted"
	jobQueued          = "Queued"
	jobRunning         = "Running"
	jobCompleted       = "Completed"
	jobCancelRequested = "CancelRequested"
	jobCanceled        = "Canceled"
	jobFailed          = "Failed"
)

// jobTypes are the values of jobType (JobType).
var jobTypes = []string{"AutoML", "Command", "Pipeline", "Spark", "Sweep"}

var (
	jobTypeEnum   = enum("JobType", jobTypes...)
	jobStatusEnum = enum("JobStatus", "CancelRequested", "Canceled", "Completed", "Failed", "Finalizing", "NotResponding",
		"NotStarted", "Paused", "Preparing", "Provisioning", "Queued", "Running", "Starting", "Unknown")
	inputDeliveryMode  = enum("InputDeliveryMode", "Direct", "Download", "EvalDownload", "EvalMount", "ReadOnlyMount", "ReadWriteMount")
	outputDeliveryMode = enum("OutputDeliveryMode", "Direct", "ReadWriteMount", "Upload")
)

// unionMember is one member of a discriminated union: an object of typeName
// that also carries the discriminator member disc.
func unionMember(typeName, disc string, discEnum *field, fields map[string]*field, required ...string) *field {
	fields[disc] = discEnum
	return object(typeName, fields, append([]string{disc}, required...)...)
}

// namedUnion is union with the .NET type name of the union itself.
func namedUnion(typeName, disc, discType string, variants map[string]*field) *field {
	u := union(disc, discType, variants)
	u.typeName = typeName
	return u
}

var identityConfiguration = func() *field {
	t := enum("IdentityConfigurationType", "AMLToken", "Managed", "UserIdentity")
	return namedUnion("IdentityConfiguration", "identityType", "IdentityConfigurationType", map[string]*field{
		"AMLToken": unionMember("AmlToken", "identityType", t, map[string]*field{}),
		"Managed": unionMember("ManagedIdentity", "identityType", t, map[string]*field{
			"clientId": str(), "objectId": str(), "resourceId": armID(typeUserIdentities),
		}),
		"UserIdentity": unionMember("UserIdentity", "identityType", t, map[string]*field{}),
	})
}()

var notificationSetting = object("NotificationSetting", map[string]*field{
	"emailOn": arrayOf(enum("EmailNotificationEnableType", "JobCancelled", "JobCompleted", "JobFailed")),
	"emails":  arrayOf(str()),
	"webhooks": mapOf(namedUnion("Webhook", "webhookType", "WebhookType", map[string]*field{
		"AzureDevOps": unionMember("AzureDevOpsWebhook", "webhookType", enum("WebhookType", "AzureDevOps"), map[string]*field{
			"eventType": str(),
		}),
	})),
})

var jobService = object("JobService", map[string]*field{
	"endpoint":       str(),
	"jobServiceType": str(),
	"nodes": namedUnion("Nodes", "nodesValueType", "NodesValueType", map[string]*field{
		"All": unionMember("AllNodes", "nodesValueType", enum("NodesValueType", "All"), map[string]*field{}),
	}),
	"port":         integer(),
	"properties":   mapOf(str()),
	"errorMessage": str().ro(),
	"status":       str().ro(),
})

var jobInput = func() *field {
	t := enum("JobInputType", "custom_model", "literal", "mlflow_model", "mltable", "triton_model", "uri_file", "uri_folder")
	asset := func(name string) *field {
		return unionMember(name, "jobInputType", t, map[string]*field{
			"uri": str(), "description": str(), "mode": inputDeliveryMode,
		}, "uri")
	}
	return namedUnion("JobInput", "jobInputType", "JobInputType", map[string]*field{
		"custom_model": asset("CustomModelJobInput"),
		"literal": unionMember("LiteralJobInput", "jobInputType", t, map[string]*field{
			"value": str(), "description": str(),
		}, "value"),
		"mlflow_model": asset("MLFlowModelJobInput"),
		"mltable":      asset("MLTableJobInput"),
		"triton_model": asset("TritonModelJobInput"),
		"uri_file":     asset("UriFileJobInput"),
		"uri_folder":   asset("UriFolderJobInput"),
	})
}()

var jobOutput = func() *field {
	t := enum("JobOutputType", "custom_model", "mlflow_model", "mltable", "triton_model", "uri_file", "uri_folder")
	asset := func(name string) *field {
		return unionMember(name, "jobOutputType", t, map[string]*field{
			"uri": str(), "description": str(), "mode": outputDeliveryMode,
		})
	}
	return namedUnion("JobOutput", "jobOutputType", "JobOutputType", map[string]*field{
		"custom_model": asset("CustomModelJobOutput"),
		"mlflow_model": asset("MLFlowModelJobOutput"),
		"mltable":      asset("MLTableJobOutput"),
		"triton_model": asset("TritonModelJobOutput"),
		"uri_file":     asset("UriFileJobOutput"),
		"uri_folder":   asset("UriFolderJobOutput"),
	})
}()

var distributionConfiguration = func() *field {
	t := enum("DistributionType", "Mpi", "PyTorch", "TensorFlow")
	return namedUnion("DistributionConfiguration", "distributionType", "DistributionType", map[string]*field{
		"Mpi":        unionMember("Mpi", "distributionType", t, map[string]*field{"processCountPerInstance": integer()}),
		"PyTorch":    unionMember("PyTorch", "distributionType", t, map[string]*field{"processCountPerInstance": integer()}),
		"TensorFlow": unionMember("TensorFlow", "distributionType", t, map[string]*field{"parameterServerCount": integer(), "workerCount": integer()}),
	})
}()

var jobResourceConfiguration = object("JobResourceConfiguration", map[string]*field{
	"dockerArgs":    str(),
	"instanceCount": integer(),
	"instanceType":  str(),
	"properties":    mapOf(anyJSON()),
	"shmSize":       str(),
})

var queueSettings = object("QueueSettings", map[string]*field{
	"jobTier": enum("JobTier", "Basic", "Null", "Premium", "Spot", "Standard"),
})

// jobLimits is CommandJobLimits or SweepJobLimits: the member jobLimitsType
// must name the job's own kind.
func jobLimits(typeName, kind string, fields map[string]*field) *field {
	fields["jobLimitsType"] = enum("JobLimitsType", kind)
	fields["timeout"] = str()
	return object(typeName, fields, "jobLimitsType")
}

var trialComponent = object("TrialComponent", map[string]*field{
	"command":              str(),
	"environmentId":        str(),
	"codeId":               str(),
	"distribution":         distributionConfiguration,
	"environmentVariables": mapOf(str()),
	"resources":            jobResourceConfiguration,
}, "command", "environmentId")

var samplingAlgorithm = func() *field {
	t := enum("SamplingAlgorithmType", "Bayesian", "Grid", "Random")
	return namedUnion("SamplingAlgorithm", "samplingAlgorithmType", "SamplingAlgorithmType", map[string]*field{
		"Bayesian": unionMember("BayesianSamplingAlgorithm", "samplingAlgorithmType", t, map[string]*field{}),
		"Grid":     unionMember("GridSamplingAlgorithm", "samplingAlgorithmType", t, map[string]*field{}),
		"Random": unionMember("RandomSamplingAlgorithm", "samplingAlgorithmType", t, map[string]*field{
			"rule": enum("RandomSamplingAlgorithmRule", "Random", "Sobol"), "seed": integer(),
		}),
	})
}()

var earlyTerminationPolicy = func() *field {
	t := enum("EarlyTerminationPolicyType", "Bandit", "MedianStopping", "TruncationSelection")
	common := func(extra map[string]*field) map[string]*field {
		m := map[string]*field{"delayEvaluation": integer(), "evaluationInterval": integer()}
		maps.Copy(m, extra)
		return m
	}
	return namedUnion("EarlyTerminationPolicy", "policyType", "EarlyTerminationPolicyType", map[string]*field{
		"Bandit": unionMember("BanditPolicy", "policyType", t, common(map[string]*field{
			"slackAmount": number(), "slackFactor": number(),
		})),
		"MedianStopping": unionMember("MedianStoppingPolicy", "policyType", t, common(nil)),
		"TruncationSelection": unionMember("TruncationSelectionPolicy", "policyType", t, common(map[string]*field{
			"truncationPercentage": integer(),
		})),
	})
}()

// jobFields returns the members every job type has (JobBaseProperties)
// plus extra.
func jobFields(extra map[string]*field) map[string]*field {
	m := map[string]*field{
		"componentId":         str(),
		"computeId":           str(),
		"description":         str(),
		"displayName":         str(),
		"experimentName":      str(),
		"identity":            identityConfiguration,
		"isArchived":          boolean(),
		"notificationSetting": notificationSetting,
		"properties":          mapOf(str()),
		"services":            mapOf(jobService),
		"tags":                mapOf(str()),
		"status":              jobStatusEnum.ro(),
	}
	maps.Copy(m, extra)
	return m
}

// jobBaseProperties is the schema of a job's properties, and of a
// schedule's jobDefinition.
var jobBaseProperties = namedUnion("JobBaseProperties", "jobType", "JobType", map[string]*field{
	"Command": unionMember("CommandJob", "jobType", jobTypeEnum, jobFields(map[string]*field{
		"command":              str(),
		"environmentId":        str(),
		"codeId":               str(),
		"distribution":         distributionConfiguration,
		"environmentVariables": mapOf(str()),
		"inputs":               mapOf(jobInput),
		"outputs":              mapOf(jobOutput),
		"limits":               jobLimits("CommandJobLimits", "Command", map[string]*field{}),
		"queueSettings":        queueSettings,
		"resources":            jobResourceConfiguration,
		"parameters":           anyJSON().ro(),
	}), "command", "environmentId"),
	"Sweep": unionMember("SweepJob", "jobType", jobTypeEnum, jobFields(map[string]*field{
		"objective": object("Objective", map[string]*field{
			"goal":          enum("Goal", "Maximize", "Minimize"),
			"primaryMetric": str(),
		}, "goal", "primaryMetric"),
		"samplingAlgorithm": samplingAlgorithm,
		"searchSpace":       anyJSON(),
		"trial":             trialComponent,
		"earlyTermination":  earlyTerminationPolicy,
		"inputs":            mapOf(jobInput),
		"outputs":           mapOf(jobOutput),
		"limits": jobLimits("SweepJobLimits", "Sweep", map[string]*field{
			"maxConcurrentTrials": integer(), "maxTotalTrials": integer(), "trialTimeout": str(),
		}),
		"queueSettings": queueSettings,
	}), "objective", "samplingAlgorithm", "searchSpace", "trial"),
	"Pipeline": unionMember("PipelineJob", "jobType", jobTypeEnum, jobFields(map[string]*field{
		"inputs":      mapOf(jobInput),
		"outputs":     mapOf(jobOutput),
		"jobs":        mapOf(anyJSON()),
		"settings":    anyJSON(),
		"sourceJobId": str(),
	})),
	"AutoML": unionMember("AutoMLJob", "jobType", jobTypeEnum, jobFields(map[string]*field{
		"environmentId":        str(),
		"environmentVariables": mapOf(str()),
		"outputs":              mapOf(jobOutput),
		"queueSettings":        queueSettings,
		"resources":            jobResourceConfiguration,
		"taskDetails": object("AutoMLVertical", map[string]*field{
			"taskType": enum("TaskType", "Classification", "Forecasting", "ImageClassification", "ImageClassificationMultilabel",
				"ImageInstanceSegmentation", "ImageObjectDetection", "Regression", "TextClassification", "TextClassificationMultilabel", "TextNER"),
			"trainingData": object("MLTableJobInput", map[string]*field{"uri": str()}, "uri").opened(),
		}, "taskType", "trainingData").opened(),
	}), "taskDetails"),
	"Spark": unionMember("SparkJob", "jobType", jobTypeEnum, jobFields(map[string]*field{
		"archives": arrayOf(str()),
		"args":     str(),
		"codeId":   str(),
		"conf":     mapOf(str()),
		"entry": namedUnion("SparkJobEntry", "sparkJobEntryType", "SparkJobEntryType", map[string]*field{
			"SparkJobPythonEntry": unionMember("SparkJobPythonEntry", "sparkJobEntryType",
				enum("SparkJobEntryType", "SparkJobPythonEntry", "SparkJobScalaEntry"), map[string]*field{"file": str()}, "file"),
			"SparkJobScalaEntry": unionMember("SparkJobScalaEntry", "sparkJobEntryType",
				enum("SparkJobEntryType", "SparkJobPythonEntry", "SparkJobScalaEntry"), map[string]*field{"className": str()}, "className"),
		}),
		"environmentId":        str(),
		"environmentVariables": mapOf(str()),
		"files":                arrayOf(str()),
		"inputs":               mapOf(jobInput),
		"jars":                 arrayOf(str()),
		"outputs":              mapOf(jobOutput),
		"pyFiles":              arrayOf(str()),
		"queueSettings":        queueSettings,
		"resources": object("SparkResourceConfiguration", map[string]*field{
			"instanceType": str(), "runtimeVersion": str(),
		}),
	}), "codeId", "entry"),
})
