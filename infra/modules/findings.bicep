// The optional entity path (main.bicep: enableFindingsTable). Incidents
// created through the Sentinel API cannot carry entities; this is the
// Sentinel-native alternative:
//   rmmhunt --(Logs Ingestion API)--> DCE --> DCR stream Custom-RmmHuntFindings_CL
//   --> custom table RmmHuntFindings_CL on the Sentinel workspace
//   --> scheduled analytics rule with entity mappings (Host, URL, Account, IP)
//   --> alerts and incidents grouped by host.
// Deployed with scope: resourceGroup(sentinelSubscriptionId,
// sentinelResourceGroup): the table and the rule live on the workspace, and
// a DCR must be in the same region as its destination workspace.

@description('Name of the existing Sentinel (Log Analytics) workspace in this resource group.')
param workspaceName string

@description('Name prefix for the data collection endpoint and rule.')
param namePrefix string

@description('Principal id of the app\'s user-assigned identity (gets Monitoring Metrics Publisher on the DCR).')
param principalId string

@description('Severity of the alerts the analytics rule raises.')
@allowed([
  'Informational'
  'Low'
  'Medium'
  'High'
])
param alertSeverity string = 'Medium'

param tags object = {}

var tableName = 'RmmHuntFindings_CL'
var streamName = 'Custom-RmmHuntFindings_CL'

// One record per finding row (BRIEF: "Findings table for the Logs Ingestion
// sink"); the table and the DCR stream declare the same columns.
var columns = [
  {
    name: 'TimeGenerated'
    type: 'datetime'
  }
  {
    name: 'RunId'
    type: 'string'
  }
  {
    name: 'RuleId'
    type: 'string'
  }
  {
    name: 'RuleName'
    type: 'string'
  }
  {
    name: 'Tactics'
    type: 'string'
  }
  {
    name: 'Techniques'
    type: 'string'
  }
  {
    name: 'DeviceId'
    type: 'string'
  }
  {
    name: 'DeviceName'
    type: 'string'
  }
  {
    name: 'RemoteUrl'
    type: 'string'
  }
  {
    name: 'RemoteIP'
    type: 'string'
  }
  {
    name: 'AccountName'
    type: 'string'
  }
  {
    name: 'FirstSeen'
    type: 'datetime'
  }
  {
    name: 'LastSeen'
    type: 'datetime'
  }
  {
    name: 'EventCount'
    type: 'long'
  }
  {
    name: 'Finding'
    type: 'dynamic'
  }
]

// Monitoring Metrics Publisher (reference C.4/C.5): send to the DCR.
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: workspaceName
}

resource table 'Microsoft.OperationalInsights/workspaces/tables@2025-07-01' = {
  parent: workspace
  name: tableName
  properties: {
    plan: 'Analytics'
    schema: {
      name: tableName
      description: 'rmmhunt findings: one record per finding row of a hunt run.'
      columns: columns
    }
  }
}

resource dce 'Microsoft.Insights/dataCollectionEndpoints@2023-03-11' = {
  name: '${namePrefix}-findings-dce'
  location: workspace.location
  tags: tags
  properties: {
    description: 'Logs Ingestion endpoint for rmmhunt findings.'
    networkAcls: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

resource dcr 'Microsoft.Insights/dataCollectionRules@2024-03-11' = {
  name: '${namePrefix}-findings-dcr'
  location: workspace.location
  tags: tags
  properties: {
    description: 'rmmhunt findings into ${tableName}.'
    dataCollectionEndpointId: dce.id
    streamDeclarations: {
      'Custom-RmmHuntFindings_CL': {
        columns: columns
      }
    }
    destinations: {
      logAnalytics: [
        {
          name: 'sentinel'
          workspaceResourceId: workspace.id
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          streamName
        ]
        destinations: [
          'sentinel'
        ]
        transformKql: 'source'
        outputStream: streamName
      }
    ]
  }
  dependsOn: [
    table
  ]
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dcr.id, principalId, monitoringMetricsPublisher)
  scope: dcr
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Runs hourly and alerts on records ingested in the last hour whose
// activity (rule, device, URL, LastSeen) was not ingested before: every hunt
// re-finds what is still inside its 5-day window, and that must not alert
// again; several runs within the hour collapse to one row. Alerts for one
// host are still grouped into one incident for 5 days. The query was checked
// with Kusto.Language: it binds and returns the columns of the table.
resource rule 'Microsoft.SecurityInsights/alertRules@2025-09-01' = {
  scope: workspace
  name: guid(workspace.id, namePrefix, 'rmmhunt-findings-rule')
  kind: 'Scheduled'
  properties: {
    displayName: 'rmmhunt: remote management tool finding'
    description: 'A finding written by rmmhunt (remote-management tool abuse hunt) to ${tableName}. Entities: the device, the remote URL and IP, the initiating account.'
    severity: alertSeverity
    enabled: true
    query: 'let recent = ${tableName}\n    | where ingestion_time() > ago(1h);\nlet seen = ${tableName}\n    | where ingestion_time() between (ago(6d) .. ago(1h))\n    | distinct RuleId, DeviceId, RemoteUrl, LastSeen;\nrecent\n| join kind=leftanti seen on RuleId, DeviceId, RemoteUrl, LastSeen\n| summarize arg_max(TimeGenerated, *) by RuleId, DeviceId, RemoteUrl\n| project TimeGenerated, RunId, RuleId, RuleName, Tactics, Techniques, DeviceId, DeviceName, RemoteUrl, RemoteIP, AccountName, FirstSeen, LastSeen, EventCount, Finding'
    queryFrequency: 'PT1H'
    queryPeriod: 'P6D'
    triggerOperator: 'GreaterThan'
    triggerThreshold: 0
    suppressionEnabled: false
    suppressionDuration: 'PT1H'
    tactics: [
      'CommandAndControl'
    ]
    techniques: [
      'T1219'
    ]
    eventGroupingSettings: {
      aggregationKind: 'AlertPerResult'
    }
    alertDetailsOverride: {
      alertDisplayNameFormat: 'rmmhunt: {{RuleName}} on {{DeviceName}}'
      alertDescriptionFormat: 'Rule {{RuleId}} matched on {{DeviceName}} (remote {{RemoteUrl}} {{RemoteIP}}).'
    }
    customDetails: {
      RuleId: 'RuleId'
      RunId: 'RunId'
      FirstSeen: 'FirstSeen'
      LastSeen: 'LastSeen'
      EventCount: 'EventCount'
    }
    entityMappings: [
      {
        entityType: 'Host'
        fieldMappings: [
          {
            identifier: 'HostName'
            columnName: 'DeviceName'
          }
        ]
      }
      {
        entityType: 'URL'
        fieldMappings: [
          {
            identifier: 'Url'
            columnName: 'RemoteUrl'
          }
        ]
      }
      {
        entityType: 'Account'
        fieldMappings: [
          {
            identifier: 'Name'
            columnName: 'AccountName'
          }
        ]
      }
      {
        entityType: 'IP'
        fieldMappings: [
          {
            identifier: 'Address'
            columnName: 'RemoteIP'
          }
        ]
      }
    ]
    incidentConfiguration: {
      createIncident: true
      groupingConfiguration: {
        enabled: true
        reopenClosedIncident: false
        lookbackDuration: 'P5D'
        matchingMethod: 'Selected'
        groupByEntities: [
          'Host'
        ]
        groupByAlertDetails: []
        groupByCustomDetails: []
      }
    }
  }
  dependsOn: [
    table
  ]
}

output logsIngestionEndpoint string = dce.properties.logsIngestion.endpoint
output dcrImmutableId string = dcr.properties.immutableId
output streamName string = streamName
output ruleId string = rule.id
