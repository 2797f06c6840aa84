// The hosting plan and the Function App (custom handler: the rmmhunt binary
// started by the Functions host as `rmmhunt serve`).
//
// planKind (trade-off, see README "Deploy"):
//   flex        FC1 Flex Consumption. The recommended plan: Linux-only,
//               scale to zero, per-second billing, package in a blob
//               container read with the identity (no keys). The runtime is
//               chosen by functionAppConfig.runtime (custom 1.0), not by
//               FUNCTIONS_WORKER_RUNTIME. Caveat: check that your region
//               offers the custom runtime on Flex
//               (`az functionapp list-flexconsumption-runtimes -l <region>`).
//   consumption Y1 Linux Consumption. Cheapest, scale to zero, but legacy
//               (no new features, retirement announced for 30 Sep 2028),
//               cold starts. Use it only where Flex or its custom runtime
//               is not available.
//   premium     EP1 Elastic Premium. Always-warm instance (no cold start),
//               VNet integration possible later; billed per instance around
//               the clock (the most expensive choice).
// Y1/EP1 run the package from the deployment blob container through
// WEBSITE_RUN_FROM_PACKAGE with the identity
// (WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID): the storage account has
// shared keys disabled, so there is no Azure Files content share.

@description('Azure region.')
param location string

@description('Hosting plan: flex (FC1), consumption (Y1, legacy) or premium (EP1).')
@allowed([
  'flex'
  'consumption'
  'premium'
])
param planKind string

param planName string
param appName string

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

param storageAccountName string

@description('URL of the blob container that holds the package.')
param deploymentContainerUrl string

@description('Blob name of the package inside the container (Y1/EP1 run from it).')
param packageBlobName string = 'rmmhunt-functions.zip'

param appInsightsConnectionString string

@description('Flex: memory per instance (MB).')
@allowed([
  512
  2048
  4096
])
param flexInstanceMemoryMB int = 2048

@description('Flex: maximum number of instances.')
@minValue(40)
@maxValue(1000)
param flexMaximumInstanceCount int = 40

@description('RMMHUNT_SOURCE: where the hunting KQL runs.')
@allowed([
  'log-analytics'
  'defender'
])
param source string

@description('RMMHUNT_WORKSPACE_ID: the Sentinel workspace ID (GUID) for the query API.')
param workspaceId string

param sentinelSubscriptionId string
param sentinelResourceGroup string
param sentinelWorkspaceName string

@description('RMMHUNT_SCHEDULE: NCRONTAB (6 fields) of the HuntTimer function.')
param schedule string

@description('RMMHUNT_EXCLUSIONS: exclusion file, relative to the package root.')
param exclusionsPath string

@description('RMMHUNT_DISABLED_RULES: comma-separated rule ids not run by the timer (empty: none).')
param disabledRules string = ''

@description('RMMHUNT_INCIDENT_SEVERITY of incidents created through the API.')
param incidentSeverity string = 'Medium'

@description('Logs Ingestion target; empty strings when the findings table is not deployed.')
param logsIngestionEndpoint string = ''
param logsIngestionDcrId string = ''
param logsIngestionStream string = ''

param tags object = {}

var isFlex = planKind == 'flex'

var skus = {
  flex: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  consumption: {
    name: 'Y1'
    tier: 'Dynamic'
  }
  premium: {
    name: 'EP1'
    tier: 'ElasticPremium'
  }
}

// App settings. tests/settings_template.rs reads every `*Settings` array
// below and checks each name against config::VARIABLES (or its allow-list
// of host settings); keep them as `name: '...'` literals.

// Host: identity-based host storage, telemetry with Entra auth.
var hostSettings = [
  {
    name: 'AzureWebJobsStorage__accountName'
    value: storageAccountName
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsightsConnectionString
  }
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'ClientId=${identityClientId};Authorization=AAD'
  }
]

// Y1/EP1 only: Flex picks the runtime from functionAppConfig and manages
// the host version itself (it rejects these settings).
var legacyPlanSettings = isFlex ? [] : [
  {
    name: 'FUNCTIONS_WORKER_RUNTIME'
    value: 'custom'
  }
  {
    name: 'FUNCTIONS_EXTENSION_VERSION'
    value: '~4'
  }
  {
    name: 'WEBSITE_RUN_FROM_PACKAGE'
    value: '${deploymentContainerUrl}/${packageBlobName}'
  }
  {
    name: 'WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID'
    value: identityId
  }
]

// rmmhunt (DESIGN.md "Settings"; src/config.rs).
var appSettings = [
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    name: 'RMMHUNT_CREDENTIAL'
    value: 'managed-identity'
  }
  {
    name: 'RMMHUNT_API_AUTH'
    value: 'host'
  }
  {
    name: 'RMMHUNT_SOURCE'
    value: source
  }
  {
    name: 'RMMHUNT_WORKSPACE_ID'
    value: workspaceId
  }
  {
    name: 'RMMHUNT_SENTINEL_SUBSCRIPTION_ID'
    value: sentinelSubscriptionId
  }
  {
    name: 'RMMHUNT_SENTINEL_RESOURCE_GROUP'
    value: sentinelResourceGroup
  }
  {
    name: 'RMMHUNT_SENTINEL_WORKSPACE'
    value: sentinelWorkspaceName
  }
  {
    name: 'RMMHUNT_SCHEDULE'
    value: schedule
  }
  {
    name: 'RMMHUNT_EXCLUSIONS'
    value: exclusionsPath
  }
  {
    name: 'RMMHUNT_DISABLED_RULES'
    value: disabledRules
  }
  {
    name: 'RMMHUNT_INCIDENT_SEVERITY'
    value: incidentSeverity
  }
]

// Only with enableFindingsTable (the Logs Ingestion sink).
var logsIngestionSettings = empty(logsIngestionEndpoint) ? [] : [
  {
    name: 'RMMHUNT_LOGS_INGESTION_ENDPOINT'
    value: logsIngestionEndpoint
  }
  {
    name: 'RMMHUNT_LOGS_INGESTION_DCR_ID'
    value: logsIngestionDcrId
  }
  {
    name: 'RMMHUNT_LOGS_INGESTION_STREAM'
    value: logsIngestionStream
  }
]

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  //checkov:skip=CKV_AZURE_225:The app is a scheduled batch hunt plus an on-demand API; a zone outage delays one run (the next run covers the same 5-day window again), and zone redundancy would force at least three always-on instances on EP1 and is not offered for Y1.
  name: planName
  location: location
  tags: tags
  kind: planKind == 'premium' ? 'elastic' : 'functionapp'
  sku: skus[planKind]
  properties: {
    reserved: true
    maximumElasticWorkerCount: planKind == 'premium' ? 20 : null
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  //checkov:skip=CKV_AZURE_222:Callers are Sentinel playbooks (Logic Apps) on the public Azure network and the deployment uses no VNet or private endpoint; every /api/* request must carry a function key (authLevel function) and the Functions host drives the timer internally.
  //checkov:skip=CKV_AZURE_17:Callers authenticate with function keys (or RMMHUNT_API_AUTH=key/entra); Logic Apps playbooks do not present client certificates, so requiring them would lock the callers out without adding a check the app enforces.
  //checkov:skip=CKV_AZURE_212:Serverless plans (Flex, Y1) scale from zero and have no fixed worker count; a failed timer run is retried by the next schedule over the same 5-day window.
  //checkov:skip=CKV_AZURE_213:App Service health check calls the site anonymously and does not apply to Flex/Y1 scale-to-zero; /api/health needs a function key, and the host itself probes the handler at / on start.
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    keyVaultReferenceIdentity: identityId
    functionAppConfig: isFlex ? {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: flexMaximumInstanceCount
        instanceMemoryMB: flexInstanceMemoryMB
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    } : null
    siteConfig: {
      linuxFxVersion: isFlex ? null : ''
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      appSettings: concat(hostSettings, legacyPlanSettings, appSettings, logsIngestionSettings)
    }
  }
}

// No publishing with user name and password (FTP or the SCM site): deploy
// with an Entra token (`az functionapp deployment source config-zip`) or
// through the blob container.
resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output appName string = site.name
output defaultHostName string = site.properties.defaultHostName
output appId string = site.id
