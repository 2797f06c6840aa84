// rmmhunt on Azure Functions (custom handler), least privilege.
//
//   az deployment group create -g <rg> -f infra/main.bicep -p infra/<env>.bicepparam
//
// Deploys into the target resource group: a user-assigned identity, the
// host storage account (identity only, no keys), Application Insights on its
// own Log Analytics workspace, the plan and the Function App. Into the
// existing Sentinel workspace's resource group (often another subscription):
// Log Analytics Reader + Microsoft Sentinel Responder for the identity on
// the workspace itself, and, with enableFindingsTable, the findings table,
// DCE, DCR and analytics rule (modules/findings.bicep).
// Not deployable with ARM: the Microsoft Graph app role ThreatHunting.Read.All
// (source defender) -> infra/grant-graph-permission.sh.

targetScope = 'resourceGroup'

@description('Prefix of every resource name (letters, digits, hyphens).')
@minLength(3)
@maxLength(12)
param namePrefix string

@description('Azure region of the app resources.')
param location string = resourceGroup().location

@description('Hosting plan: flex (FC1, recommended), consumption (Y1, legacy) or premium (EP1). Trade-off: modules/functionapp.bicep and README "Deploy".')
@allowed([
  'flex'
  'consumption'
  'premium'
])
param planKind string = 'flex'

@description('Where the hunting KQL runs: log-analytics (the Sentinel workspace) or defender (Microsoft Graph advanced hunting; needs the Graph permission step).')
@allowed([
  'log-analytics'
  'defender'
])
param source string = 'log-analytics'

@description('NCRONTAB (6 fields, UTC) of the HuntTimer function: second minute hour day month day-of-week.')
param schedule string = '0 0 * * * *'

@description('Subscription of the existing Sentinel workspace.')
param sentinelSubscriptionId string = subscription().subscriptionId

@description('Resource group of the existing Sentinel workspace.')
param sentinelResourceGroup string

@description('Name of the existing Sentinel (Log Analytics) workspace.')
param sentinelWorkspaceName string

@description('Workspace ID (GUID, "customerId") of the Sentinel workspace, for the query API.')
param sentinelWorkspaceId string

@description('Exclusion file, relative to the package root (the package ships examples/exclusions.yaml; put your own file in the package and name it here).')
param exclusionsPath string = 'examples/exclusions.yaml'

@description('Comma-separated rule ids the timer does not run (empty: none).')
param disabledRules string = ''

@description('Severity of the incidents rmmhunt creates (and of the analytics rule\'s alerts).')
@allowed([
  'Informational'
  'Low'
  'Medium'
  'High'
])
param incidentSeverity string = 'Medium'

@description('Also deploy the entity path: custom table RmmHuntFindings_CL, DCE, DCR and a scheduled analytics rule with entity mappings on the Sentinel workspace; rmmhunt then writes findings there too.')
param enableFindingsTable bool = false

@description('Flex only: memory per instance (MB).')
@allowed([
  512
  2048
  4096
])
param flexInstanceMemoryMB int = 2048

@description('Days of retention of the app telemetry workspace.')
@minValue(30)
@maxValue(730)
param telemetryRetentionInDays int = 30

param tags object = {}

var suffix = uniqueString(resourceGroup().id, namePrefix)
var prefix = toLower(namePrefix)
var storageAccountName = take('${replace(prefix, '-', '')}${suffix}', 24)
var deploymentContainerName = 'app-package'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: '${prefix}-id'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: '${prefix}-monitoring'
  params: {
    location: location
    workspaceName: '${prefix}-telemetry-${suffix}'
    appInsightsName: '${prefix}-ai-${suffix}'
    principalId: identity.properties.principalId
    retentionInDays: telemetryRetentionInDays
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: '${prefix}-storage'
  params: {
    location: location
    storageAccountName: storageAccountName
    deploymentContainerName: deploymentContainerName
    principalId: identity.properties.principalId
    tags: tags
  }
}

module sentinelAccess 'modules/sentinel-access.bicep' = {
  name: '${prefix}-sentinel-access'
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroup)
  params: {
    workspaceName: sentinelWorkspaceName
    principalId: identity.properties.principalId
  }
}

module findings 'modules/findings.bicep' = if (enableFindingsTable) {
  name: '${prefix}-findings'
  scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroup)
  params: {
    workspaceName: sentinelWorkspaceName
    namePrefix: prefix
    principalId: identity.properties.principalId
    alertSeverity: incidentSeverity
    tags: tags
  }
}

module app 'modules/functionapp.bicep' = {
  name: '${prefix}-app'
  params: {
    location: location
    planKind: planKind
    planName: '${prefix}-plan-${suffix}'
    appName: '${prefix}-${suffix}'
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.storageAccountName
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.connectionString
    flexInstanceMemoryMB: flexInstanceMemoryMB
    source: source
    workspaceId: sentinelWorkspaceId
    sentinelSubscriptionId: sentinelSubscriptionId
    sentinelResourceGroup: sentinelResourceGroup
    sentinelWorkspaceName: sentinelWorkspaceName
    schedule: schedule
    exclusionsPath: exclusionsPath
    disabledRules: disabledRules
    incidentSeverity: incidentSeverity
    logsIngestionEndpoint: enableFindingsTable ? findings!.outputs.logsIngestionEndpoint : ''
    logsIngestionDcrId: enableFindingsTable ? findings!.outputs.dcrImmutableId : ''
    logsIngestionStream: enableFindingsTable ? findings!.outputs.streamName : ''
    tags: tags
  }
  // Storage and telemetry roles are in place before the site (their
  // outputs feed it); the workspace roles too, so the first timer run can
  // query and write incidents.
  dependsOn: [
    sentinelAccess
  ]
}

output functionAppName string = app.outputs.appName
output defaultHostName string = app.outputs.defaultHostName
output identityPrincipalId string = identity.properties.principalId
output identityClientId string = identity.properties.clientId
output identityId string = identity.id
output storageAccountName string = storage.outputs.storageAccountName
output deploymentContainerName string = deploymentContainerName
