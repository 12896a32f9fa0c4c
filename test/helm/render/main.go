// Command helm-render renders a Helm chart (apiVersion v2, no dependencies, no hooks) the way `helm template`
// does, for memwarden's tests where no helm binary can be installed (test/helm/README.md).
//
//	helm-render [--name RELEASE] [--namespace NS] [-f VALUES.yaml]... [--notes] CHART_DIR
//
// What it shares with helm: Go text/template with sprig's function map (minus env/expandenv) plus helm's include,
// required, toYaml, fromYaml, toJson; missing keys render as empty strings; values are read as YAML → JSON
// (numbers become float64, as in helm); -f files are merged into the chart's values (maps deeply, a null deletes
// a default); every template shares one namespace of defines; files whose name starts with "_" are partials;
// NOTES.txt is rendered but not printed (--notes prints only it); the output is one YAML stream of documents
// sorted by helm's install order of kinds, each "---\n# Source: CHART/templates/FILE\n" + the trimmed document.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/ghodss/yaml"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

func main() {
	name := flag.String("name", "release-name", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	var files valueFiles
	flag.Var(&files, "f", "values file merged over the chart's values.yaml (repeatable; later files win)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: helm-render [--name RELEASE] [--namespace NS] [-f VALUES.yaml]... [--notes] CHART_DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	out, err := render(flag.Arg(0), *name, *namespace, files, *notes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(out)
}

func render(chartDir, release, namespace string, valueFiles []string, notesOnly bool) (string, error) {
	meta, err := readMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	if meta["apiVersion"] != "v2" {
		return "", fmt.Errorf("Chart.yaml: apiVersion must be v2, got %v", meta["apiVersion"])
	}
	chartName, _ := meta["name"].(string)
	if chartName == "" {
		return "", errors.New("Chart.yaml: name is required")
	}
	if _, ok := meta["dependencies"]; ok {
		return "", errors.New("Chart.yaml: dependencies are not supported by this renderer")
	}
	values, err := readMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	user := map[string]interface{}{}
	for _, f := range valueFiles {
		m, err := readMap(f)
		if err != nil {
			return "", err
		}
		user = mergeMaps(user, m)
	}
	values = coalesce(user, values)

	templates, err := loadTemplates(chartDir, chartName)
	if err != nil {
		return "", err
	}
	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": release, "Namespace": namespace, "Service": "Helm", "Revision": 1,
			"IsInstall": true, "IsUpgrade": false,
		},
		"Chart":        chartObject(meta),
		"Capabilities": map[string]interface{}{"KubeVersion": map[string]interface{}{"Version": "v1.37.0", "Major": "1", "Minor": "37"}},
		"Files":        map[string]interface{}{},
	}
	rendered, err := execute(templates, chartName, top)
	if err != nil {
		return "", err
	}
	notesName := chartName + "/templates/NOTES.txt"
	if notesOnly {
		return rendered[notesName], nil
	}
	delete(rendered, notesName)
	manifests, err := sortManifests(rendered)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.name, m.content)
	}
	return b.String(), nil
}

// readMap reads one YAML mapping the way helm reads values: YAML → JSON → Go values.
func readMap(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// chartObject is .Chart: Chart.yaml's keys under the Go field names helm's chart.Metadata gives them.
func chartObject(meta map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range meta {
		switch k {
		case "apiVersion":
			out["APIVersion"] = v
		case "appVersion":
			out["AppVersion"] = v
		case "kubeVersion":
			out["KubeVersion"] = v
		default:
			out[strings.ToUpper(k[:1])+k[1:]] = v
		}
	}
	return out
}

// mergeMaps merges b into a (b wins; maps are merged deeply), as helm merges several -f files.
func mergeMaps(a, b map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]interface{}); ok {
			if om, ok := out[k].(map[string]interface{}); ok {
				out[k] = mergeMaps(om, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// coalesce lays the user's values over the chart's defaults: user values win, maps merge deeply, and a user
// null removes the default key.
func coalesce(user, defaults map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range user {
		if v == nil {
			delete(out, k)
			continue
		}
		um, uok := v.(map[string]interface{})
		dm, dok := out[k].(map[string]interface{})
		if uok && dok {
			out[k] = coalesce(um, dm)
		} else {
			out[k] = v
		}
	}
	return out
}

type tmpl struct{ name, text string }

func loadTemplates(chartDir, chartName string) ([]tmpl, error) {
	var out []tmpl
	root := filepath.Join(chartDir, "templates")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, tmpl{path.Join(chartName, "templates", filepath.ToSlash(rel)), string(data)})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, err
}

func execute(templates []tmpl, chartName string, top map[string]interface{}) (map[string]string, error) {
	t := template.New("gotpl").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	depth := map[string]int{}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		if depth[name] > 1000 {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		depth[name]++
		defer func() { depth[name]-- }()
		var buf strings.Builder
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(warn)
		}
		if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warn)
		}
		return val, nil
	}
	funcs["toYaml"] = func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["toJson"] = func(v interface{}) string {
		data, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(data)
	}
	t.Funcs(funcs)
	for _, tp := range templates {
		if _, err := t.New(tp.name).Parse(tp.text); err != nil {
			return nil, fmt.Errorf("parse error in %q: %v", tp.name, err)
		}
	}
	out := map[string]string{}
	for _, tp := range templates {
		if strings.HasPrefix(path.Base(tp.name), "_") {
			continue
		}
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": tp.name, "BasePath": chartName + "/templates"}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, tp.name, data); err != nil {
			return nil, fmt.Errorf("template: %v", err)
		}
		out[tp.name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

type manifest struct {
	name, content, kind string
}

// helm's install order of kinds; unknown kinds come last, alphabetically.
var installOrder = []string{
	"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
	"ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
	"PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
	"ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
	"ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job",
	"CronJob", "IngressClass", "Ingress", "APIService",
}

var docSeparator = regexp.MustCompile("(?:^|\\s*\n)---\\s*")

func sortManifests(rendered map[string]string) ([]manifest, error) {
	names := make([]string, 0, len(rendered))
	for n := range rendered {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []manifest
	for _, n := range names {
		c := strings.TrimSpace(rendered[n])
		if c == "" {
			continue
		}
		for _, d := range docSeparator.Split(c, -1) {
			d = strings.TrimSpace(d)
			if d == "" {
				continue
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(d), &head); err != nil {
				return nil, fmt.Errorf("YAML parse error on %s: %v", n, err)
			}
			if _, hook := head.Metadata.Annotations["helm.sh/hook"]; hook {
				return nil, fmt.Errorf("%s: hooks are not supported by this renderer", n)
			}
			out = append(out, manifest{name: n, content: d, kind: head.Kind})
		}
	}
	rank := map[string]int{}
	for i, k := range installOrder {
		rank[k] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		ra, aok := rank[a.kind]
		rb, bok := rank[b.kind]
		switch {
		case aok && bok:
			return ra < rb
		case !aok && !bok:
			return a.kind < b.kind
		default:
			return aok
		}
	})
	return out, nil
}

