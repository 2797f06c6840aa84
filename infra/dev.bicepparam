// Development: Flex Consumption, Log Analytics source, entity path on.
// Replace the Sentinel workspace values with yours.
using 'main.bicep'

param namePrefix = 'rmmhunt-dev'
param planKind = 'flex'
param source = 'log-analytics'
// Every hour on the hour (UTC).
param schedule = '0 0 * * * *'
param sentinelSubscriptionId = '00000000-0000-0000-0000-000000000000'
param sentinelResourceGroup = 'rg-sentinel-dev'
param sentinelWorkspaceName = 'law-sentinel-dev'
param sentinelWorkspaceId = '00000000-0000-0000-0000-000000000000'
param exclusionsPath = 'examples/exclusions.yaml'
param enableFindingsTable = true
param incidentSeverity = 'Low'
param flexInstanceMemoryMB = 2048
param tags = {
  app: 'rmmhunt'
  env: 'dev'
}
