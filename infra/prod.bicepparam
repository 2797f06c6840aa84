// Production: Flex Consumption, Defender XDR source (run
// infra/grant-graph-permission.sh after the deployment), entity path on.
// Replace the Sentinel workspace values with yours.
using 'main.bicep'

param namePrefix = 'rmmhunt-prd'
param planKind = 'flex'
param source = 'defender'
// Every hour at minute 5 (UTC).
param schedule = '0 5 * * * *'
param sentinelSubscriptionId = '00000000-0000-0000-0000-000000000000'
param sentinelResourceGroup = 'rg-sentinel'
param sentinelWorkspaceName = 'law-sentinel'
param sentinelWorkspaceId = '00000000-0000-0000-0000-000000000000'
param exclusionsPath = 'examples/exclusions.yaml'
param enableFindingsTable = true
param incidentSeverity = 'Medium'
param flexInstanceMemoryMB = 2048
param telemetryRetentionInDays = 90
param tags = {
  app: 'rmmhunt'
  env: 'prod'
}
