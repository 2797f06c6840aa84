// Application Insights for the Function App, on its own Log Analytics
// workspace (not the Sentinel workspace: the app's telemetry is not security
// data and should not be billed or retained as such). Local (instrumentation
// key) auth is disabled: the Functions host sends telemetry with the
// user-assigned identity, which needs Monitoring Metrics Publisher on the
// component (assigned here).

@description('Azure region.')
param location string

@description('Log Analytics workspace name (app telemetry only).')
param workspaceName string

@description('Application Insights component name.')
param appInsightsName string

@description('Principal id of the app\'s user-assigned identity.')
param principalId string

@description('Days of telemetry retention.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

param tags object = {}

// Monitoring Metrics Publisher (reference C.5): lets the identity send
// telemetry to a component with local auth disabled.
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output connectionString string = appInsights.properties.ConnectionString
output appInsightsId string = appInsights.id
output workspaceId string = workspace.id
