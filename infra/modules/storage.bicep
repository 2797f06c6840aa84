// Host storage of the Function App and the blob container the package is
// deployed to. No account keys: allowSharedKeyAccess is false, so the host
// (AzureWebJobsStorage__* settings) and the deployment both use the
// user-assigned identity, which gets data roles on this account only.

@description('Azure region.')
param location string

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param storageAccountName string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Principal id of the app\'s user-assigned identity.')
param principalId string

param tags object = {}

// Built-in role ids (reference C.5).
// Storage Blob Data Owner: host leases/timer schedule status, Flex package.
var blobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Storage Table Data Contributor: host diagnostic events.
var tableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// No queue role: the app has no queue or blob triggers.

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  //checkov:skip=CKV_AZURE_35:The Functions host reaches its storage over the public endpoint; the plans deployed here have no VNet integration, so a default-deny network rule would lock the host out. Access is identity-only (shared keys disabled).
  //checkov:skip=CKV_AZURE_59:Same reason as CKV_AZURE_35: without VNet integration and private endpoints the host needs the public endpoint; every request must carry an Entra token (shared keys disabled).
  //checkov:skip=CKV_AZURE_206:Host storage holds only transient state (timer schedule status, locks, the redeployable package); locally redundant storage is enough and geo-replication would add cost without protecting anything that cannot be rebuilt.
  //checkov:skip=CKV_AZURE_43:The name is an expression (take(prefix without hyphens + uniqueString(), 24)) checkov cannot evaluate; main.bicep lower-cases the prefix and the storageAccountName parameter is bounded to 3-24 characters.
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    isLocalUserEnabled: false
    isSftpEnabled: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
        }
        file: {
          enabled: true
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, blobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, tableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', tableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

output storageAccountName string = storage.name
output storageAccountId string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
