// Role assignments on the existing Sentinel workspace, at the workspace
// scope (not its resource group). Deployed by main.bicep with
// scope: resourceGroup(sentinelSubscriptionId, sentinelResourceGroup),
// because the workspace usually lives in another resource group or
// subscription than the app.

@description('Name of the existing Sentinel (Log Analytics) workspace in this resource group.')
param workspaceName string

@description('Principal id of the app\'s user-assigned identity.')
param principalId string

// Built-in role ids (reference C.5).
// Log Analytics Reader: run the hunting queries (source log-analytics).
var logAnalyticsReader = '73c42c96-874c-492b-b04d-ab87d138a893'
// Microsoft Sentinel Responder: create and update incidents and comments
// (cannot delete incidents).
var sentinelResponder = '3e150937-b8fe-4cfb-8069-0eaf05ecd056'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: workspaceName
}

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, logAnalyticsReader)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', logAnalyticsReader)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource responder 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, principalId, sentinelResponder)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', sentinelResponder)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output roleAssignmentIds array = [
  reader.id
  responder.id
]
