#!/usr/bin/env bash
# Grants the app's user-assigned managed identity the Microsoft Graph
# application permission ThreatHunting.Read.All (needed by
# RMMHUNT_SOURCE=defender: Graph runHuntingQuery). An Entra app role
# assignment, not an Azure role: ARM/Bicep role assignments cannot grant it.
#
# Dry run by default: looks things up (read-only GETs), then prints the call
# that would change something. --yes makes that call. Needs the Azure CLI
# logged in (`az login`) as someone allowed to grant app roles: Privileged
# Role Administrator (or Global Administrator), or an app with
# AppRoleAssignment.ReadWrite.All + Application.Read.All.
set -euo pipefail

GRAPH_APP_ID=00000003-0000-0000-c000-000000000000
ROLE_VALUE=ThreatHunting.Read.All
# The role id in the public Graph permission catalogue; the script uses the
# id it looks up in your tenant and warns if they differ.
EXPECTED_ROLE_ID=dd98c7f5-2d42-42d3-a0e4-633161547251
GRAPH=${GRAPH_URL:-https://graph.microsoft.com}

usage() {
    cat <<USAGE
Usage: $0 (--principal-id ID | --resource-group RG [--deployment NAME]) [--remove] [--yes]

  --principal-id ID     object (principal) id of the user-assigned identity
                        (main.bicep output identityPrincipalId)
  --resource-group RG   read identityPrincipalId from the outputs of deployment
  --deployment NAME     NAME in RG (default: main, the name az gives a
                        deployment of main.bicep)
  --remove              remove the assignment instead of adding it
  --yes                 make the change (default: dry run, print it only)
USAGE
}

principal=""
rg=""
deployment=main
apply=false
remove=false
while [ $# -gt 0 ]; do
    case "$1" in
        --principal-id) principal=${2:-}; shift 2 ;;
        --resource-group|-g) rg=${2:-}; shift 2 ;;
        --deployment) deployment=${2:-}; shift 2 ;;
        --remove) remove=true; shift ;;
        --yes|-y) apply=true; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

# Prints a command (shell-quoted, ready to copy), then runs it.
show() {
    printf '%s' "$1" >&2
    shift
    printf ' %q' "$@" >&2
    printf '\n' >&2
}
run() {
    show '+' "$@"
    "$@"
}

command -v az >/dev/null || { echo "the Azure CLI (az) is not installed" >&2; exit 1; }

if [ -z "$principal" ]; then
    if [ -z "$rg" ]; then
        usage >&2
        exit 2
    fi
    principal=$(run az deployment group show -g "$rg" -n "$deployment" \
        --query properties.outputs.identityPrincipalId.value -o tsv)
fi
guid='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
if ! [[ $principal =~ $guid ]]; then
    echo "not a principal id (GUID): '$principal'" >&2
    exit 2
fi

echo "1. The managed identity's service principal" >&2
name=$(run az rest --method GET \
    --url "$GRAPH/v1.0/servicePrincipals/$principal?\$select=id,displayName" \
    --query displayName -o tsv)
echo "   $name ($principal)" >&2

echo "2. Microsoft Graph's service principal in this tenant (appId $GRAPH_APP_ID)" >&2
graph_sp=$(run az rest --method GET \
    --url "$GRAPH/v1.0/servicePrincipals(appId='$GRAPH_APP_ID')?\$select=id" \
    --query id -o tsv)
echo "   object id $graph_sp" >&2

echo "3. The app role $ROLE_VALUE (application permission)" >&2
role=$(run az rest --method GET \
    --url "$GRAPH/v1.0/servicePrincipals/$graph_sp?\$select=appRoles" \
    --query "appRoles[?value=='$ROLE_VALUE' && contains(allowedMemberTypes, 'Application')].id | [0]" -o tsv)
if [ -z "$role" ]; then
    echo "   Graph has no application role $ROLE_VALUE in this tenant" >&2
    exit 1
fi
echo "   id $role" >&2
if [ "$role" != "$EXPECTED_ROLE_ID" ]; then
    echo "   note: differs from the catalogue id $EXPECTED_ROLE_ID; using the looked-up id" >&2
fi

echo "4. Existing assignment" >&2
existing=$(run az rest --method GET \
    --url "$GRAPH/v1.0/servicePrincipals/$principal/appRoleAssignments" \
    --query "value[?appRoleId=='$role' && resourceId=='$graph_sp'].id | [0]" -o tsv)

if [ "$remove" = true ]; then
    if [ -z "$existing" ]; then
        echo "   none: nothing to remove" >&2
        exit 0
    fi
    echo "   $existing" >&2
    change=(az rest --method DELETE
        --url "$GRAPH/v1.0/servicePrincipals/$principal/appRoleAssignments/$existing")
    what="5. Remove the assignment"
else
    if [ -n "$existing" ]; then
        echo "   already granted (assignment $existing): nothing to do" >&2
        exit 0
    fi
    echo "   none" >&2
    body=$(printf '{"principalId":"%s","resourceId":"%s","appRoleId":"%s"}' "$principal" "$graph_sp" "$role")
    change=(az rest --method POST
        --url "$GRAPH/v1.0/servicePrincipals/$principal/appRoleAssignments"
        --headers Content-Type=application/json
        --body "$body")
    what="5. Grant $ROLE_VALUE to $principal"
fi

echo "$what" >&2
if [ "$apply" = true ]; then
    run "${change[@]}" >/dev/null
    echo "   done" >&2
else
    show '  (dry run) would run:' "${change[@]}"
    echo "   run again with --yes to do it" >&2
fi
