// kstatus prints the kstatus of Kubernetes objects as sigs.k8s.io/cli-utils computes it, the
// library Flux, kpt and Config Sync judge readiness with.
//
// Reads one object or a List (as `kubectl get -o json` prints it) on stdin; prints one JSON
// object per input object: {"kind", "namespace", "name", "status", "message"}.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Message   string `json:"message"`
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(2)
	}
}

func run(in io.Reader, out io.Writer) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	var doc map[string]interface{}
	// Numbers as int64 where they are whole, as the API machinery expects them.
	if err := utiljson.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("reading JSON: %w", err)
	}
	objects := []map[string]interface{}{doc}
	if items, ok := doc["items"].([]interface{}); ok {
		objects = objects[:0]
		for _, item := range items {
			if obj, ok := item.(map[string]interface{}); ok {
				objects = append(objects, obj)
			}
		}
	}
	encoder := json.NewEncoder(out)
	for _, obj := range objects {
		u := &unstructured.Unstructured{Object: obj}
		result, err := status.Compute(u)
		if err != nil {
			return fmt.Errorf("%s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
		v := verdict{u.GetKind(), u.GetNamespace(), u.GetName(), result.Status.String(), result.Message}
		if err := encoder.Encode(v); err != nil {
			return err
		}
	}
	return nil
}
