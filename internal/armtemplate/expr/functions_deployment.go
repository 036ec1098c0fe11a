package expr

import (
	"strings"
)

// Deployment functions computable from the Context's plain data:
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-scope
// https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-deployment
// reference(), list*() and the like need a deployment's state: the caller
// plugs them in (Context.Functions).
func deploymentFunctions(m map[string]Function) {
	m["parameters"] = fn(1, 1, func(c *Call) (any, error) {
		name, err := c.String(0)
		if err != nil {
			return nil, err
		}
		v, ok := lookupFold(c.Context().Parameters, name)
		if !ok {
			return nil, c.Errorf("the parameter '%s' is not defined in the template.", name)
		}
		return v, nil
	})
	m["variables"] = fn(1, 1, func(c *Call) (any, error) {
		name, err := c.String(0)
		if err != nil {
			return nil, err
		}
		// A variable is evaluated outside any lambda it is used in.
		saved := c.ev.scope
		c.ev.scope = nil
		defer func() { c.ev.scope = saved }()
		return c.Context().variable(c.ev, name)
	})
	scopeObject := func(name string, get func(*Context) map[string]any) Function {
		return fn(0, 0, func(c *Call) (any, error) {
			if o := get(c.Context()); o != nil {
				return o, nil
			}
			return nil, c.Errorf("the function is not available at this deployment's scope.")
		})
	}
	m["resourcegroup"] = scopeObject("resourceGroup", func(c *Context) map[string]any { return c.ResourceGroup })
	m["subscription"] = scopeObject("subscription", func(c *Context) map[string]any { return c.Subscription })
	m["tenant"] = scopeObject("tenant", func(c *Context) map[string]any { return c.Tenant })
	m["deployment"] = scopeObject("deployment", func(c *Context) map[string]any { return c.Deployment })
	m["environment"] = scopeObject("environment", func(c *Context) map[string]any { return c.Environment })
	m["resourceid"] = fn(2, -1, resourceID)
	m["subscriptionresourceid"] = fn(2, -1, func(c *Call) (any, error) {
		return optionalScopeID(c, "subscriptionId", c.Context().Scope.SubscriptionID, "/subscriptions/")
	})
	m["tenantresourceid"] = fn(2, -1, func(c *Call) (any, error) {
		ss, err := c.strings()
		if err != nil {
			return nil, err
		}
		return providerPath(c, "", ss[0], ss[1:])
	})
	m["extensionresourceid"] = fn(3, -1, func(c *Call) (any, error) {
		ss, err := c.strings()
		if err != nil {
			return nil, err
		}
		return providerPath(c, strings.TrimSuffix(ss[0], "/"), ss[1], ss[2:])
	})
	m["managementgroupresourceid"] = fn(2, -1, func(c *Call) (any, error) {
		return optionalScopeID(c, "managementGroupId", c.Context().Scope.ManagementGroup, "/providers/Microsoft.Management/managementGroups/")
	})
}

// optionalScopeID is a resource id under one scope whose name may come
// first in the arguments ([scope,] resourceType, resourceName...) or else
// from the Context (def).
func optionalScopeID(c *Call, what, def, prefix string) (any, error) {
	ss, err := c.strings()
	if err != nil {
		return nil, err
	}
	t := typeIndex(ss)
	if t < 0 || t > 1 {
		return nil, c.Errorf("the arguments must be [%s,] resourceType, resourceName...", what)
	}
	if t == 1 {
		def = ss[0]
	}
	return providerPath(c, prefix+def, ss[t], ss[t+1:])
}

// typeIndex is the index of the first argument that is a resource type
// (has a "/"), or -1.
func typeIndex(ss []string) int {
	for i, s := range ss {
		if strings.Contains(s, "/") {
			return i
		}
	}
	return -1
}

// resourceID is resourceId([subscriptionId], [resourceGroupName],
// resourceType, resourceName...): what precedes the type fills in the
// scope (one argument is the resource group), the rest comes from the
// Context. Without a resource group in either, the id is the
// subscription's (a subscription-scope deployment), and without a
// subscription the tenant's.
func resourceID(c *Call) (any, error) {
	ss, err := c.strings()
	if err != nil {
		return nil, err
	}
	t := typeIndex(ss)
	if t < 0 || t > 2 {
		return nil, c.Errorf("the arguments must be [subscriptionId,] [resourceGroupName,] resourceType, resourceName...")
	}
	sc := c.Context().Scope
	sub, rg := sc.SubscriptionID, sc.ResourceGroup
	switch t {
	case 1:
		rg = ss[0]
	case 2:
		sub, rg = ss[0], ss[1]
	}
	prefix := ""
	if sub != "" {
		prefix = "/subscriptions/" + sub
		if rg != "" {
			prefix += "/resourceGroups/" + rg
		}
	}
	return providerPath(c, prefix, ss[t], ss[t+1:])
}

// providerPath is prefix/providers/Namespace/type1/name1/type2/name2...;
// the names must match the type's segments one for one.
func providerPath(c *Call, prefix, typ string, names []string) (any, error) {
	segs := strings.Split(strings.Trim(typ, "/"), "/")
	if len(segs) < 2 || segs[0] == "" {
		return nil, c.Errorf("the resource type '%s' is not valid: it must be Namespace/type.", typ)
	}
	if len(names) != len(segs)-1 {
		return nil, c.Errorf("the type '%s' requires %d resource name argument(s) while %d were provided.", typ, len(segs)-1, len(names))
	}
	var b strings.Builder
	b.WriteString(prefix + "/providers/" + segs[0])
	for i, s := range segs[1:] {
		b.WriteString("/" + s + "/" + strings.Trim(names[i], "/"))
	}
	return c.result(b.String())
}
