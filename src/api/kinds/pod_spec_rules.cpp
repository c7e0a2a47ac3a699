#include "api/kinds/pod_spec_rules.h"

#include <boost/json.hpp>
#include <cctype>
#include <map>
#include <set>

#include "base/quantity.h"

namespace skiff::api::kinds {

namespace json = boost::json;

namespace {

constexpr std::string_view kContainerLists[] = {"containers", "initContainers",
                                                "ephemeralContainers"};
constexpr std::string_view kProbes[] = {"livenessProbe", "readinessProbe", "startupProbe"};

// Every member of core.VolumeSource: a volume names exactly one of them.
constexpr std::string_view kVolumeSources[] = {"hostPath",
                                               "emptyDir",
                                               "gcePersistentDisk",
                                               "awsElasticBlockStore",
                                               "gitRepo",
                                               "secret",
                                               "nfs",
                                               "iscsi",
                                               "glusterfs",
                                               "persistentVolumeClaim",
                                               "rbd",
                                               "flexVolume",
                                               "cinder",
                                               "cephfs",
                                               "flocker",
                                               "downwardAPI",
                                               "fc",
                                               "azureFile",
                                               "configMap",
                                               "vsphereVolume",
                                               "quobyte",
                                               "azureDisk",
                                               "photonPersistentDisk",
                                               "projected",
                                               "portworxVolume",
                                               "scaleIO",
                                               "storageos",
                                               "csi",
                                               "ephemeral",
                                               "image"};

constexpr int64_t kMaxInt32 = 2147483647;

std::string_view StrOf(const json::value& v) {
  const json::string* s = v.if_string();
  return s ? std::string_view(*s) : std::string_view();
}

// ---------------------------------------------------------------------------
// Defaults

void DefaultProbe(json::object& probe) {
  SetIfAbsent(probe, "timeoutSeconds", 1);
  SetIfAbsent(probe, "periodSeconds", 10);
  SetIfAbsent(probe, "successThreshold", 1);
  SetIfAbsent(probe, "failureThreshold", 3);
  if (json::object* http = FindMutObj(probe, {"httpGet"})) {
    if (IsUnsetString(*http, "path")) (*http)["path"] = "/";
    if (IsUnsetString(*http, "scheme")) (*http)["scheme"] = "HTTP";
  }
}

void DefaultLifecycleHandler(json::object* handler) {
  if (!handler) return;
  if (json::object* http = FindMutObj(*handler, {"httpGet"})) {
    if (IsUnsetString(*http, "path")) (*http)["path"] = "/";
    if (IsUnsetString(*http, "scheme")) (*http)["scheme"] = "HTTP";
  }
}

void DefaultContainer(json::object& c) {
  if (IsUnsetString(c, "imagePullPolicy")) {
    c["imagePullPolicy"] = DefaultPullPolicy(FindStr(c, {"image"}));
  }
  if (IsUnsetString(c, "terminationMessagePath")) {
    c["terminationMessagePath"] = "/dev/termination-log";
  }
  if (IsUnsetString(c, "terminationMessagePolicy")) c["terminationMessagePolicy"] = "File";
  if (json::array* ports = FindMutArr(c, {"ports"})) {
    for (json::value& pv : *ports) {
      if (json::object* p = pv.if_object(); p && IsUnsetString(*p, "protocol")) {
        (*p)["protocol"] = "TCP";
      }
    }
  }
  for (std::string_view probe : kProbes) {
    if (json::object* p = FindMutObj(c, {probe})) DefaultProbe(*p);
  }
  DefaultLifecycleHandler(FindMutObj(c, {"lifecycle", "postStart"}));
  DefaultLifecycleHandler(FindMutObj(c, {"lifecycle", "preStop"}));
  if (json::array* env = FindMutArr(c, {"env"})) {
    for (json::value& ev : *env) {
      json::object* e = ev.if_object();
      json::object* field_ref = e ? FindMutObj(*e, {"valueFrom", "fieldRef"}) : nullptr;
      if (field_ref && IsUnsetString(*field_ref, "apiVersion")) (*field_ref)["apiVersion"] = "v1";
    }
  }
}

// Pods only: a container that states limits but not requests requests its limits.
void DefaultRequestsFromLimits(json::object& c) {
  const json::object* limits = FindObj(c, {"resources", "limits"});
  if (!limits || limits->empty()) return;
  json::object lim = *limits;
  json::object& requests = EnsureObj(c, {"resources", "requests"});
  for (const auto& kv : lim) {
    if (!requests.contains(kv.key())) requests[kv.key()] = kv.value();
  }
}

// Pods only: with hostNetwork, a container port's hostPort is its containerPort.
void DefaultHostPorts(json::object& c) {
  json::array* ports = FindMutArr(c, {"ports"});
  if (!ports) return;
  for (json::value& pv : *ports) {
    json::object* p = pv.if_object();
    if (!p) continue;
    if (FindInt(*p, {"hostPort"}).value_or(0) == 0) {
      if (auto cp = FindInt(*p, {"containerPort"})) (*p)["hostPort"] = *cp;
    }
  }
}

void DefaultVolume(json::object& v) {
  bool has_source = false;
  for (std::string_view s : kVolumeSources) has_source = has_source || v.contains(s);
  if (!has_source) v["emptyDir"] = json::object();
  for (std::string_view s : {"secret", "configMap", "downwardAPI", "projected"}) {
    if (json::object* src = FindMutObj(v, {s})) SetIfAbsent(*src, "defaultMode", 420);
  }
  if (json::object* host_path = FindMutObj(v, {"hostPath"})) SetIfAbsent(*host_path, "type", "");
}

}  // namespace

std::string DefaultPullPolicy(std::string_view image) {
  // Mirrors the docker reference grammar loosely: [domain/]path[:tag][@digest].
  // Unparsable references get IfNotPresent, as Kubernetes ignores the parse error.
  if (image.empty()) return "IfNotPresent";
  std::string_view name = image;
  bool has_digest = false;
  if (auto at = name.find('@'); at != std::string_view::npos) {
    has_digest = true;
    name = name.substr(0, at);
  }
  std::string_view tag;
  auto slash = name.rfind('/');
  auto colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = name.substr(colon + 1);
    name = name.substr(0, colon);
  }
  // The path (after an optional domain) must be lower case.
  std::string_view path = name;
  if (auto first = name.find('/'); first != std::string_view::npos) {
    std::string_view domain = name.substr(0, first);
    if (domain.find_first_of(".:") != std::string_view::npos || domain == "localhost") {
      path = name.substr(first + 1);
    }
  }
  if (path.empty()) return "IfNotPresent";
  for (char c : path) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '/';
    if (!ok) return "IfNotPresent";
  }
  if (tag.empty() && !has_digest) tag = "latest";
  return tag == "latest" ? "Always" : "IfNotPresent";
}

void ApplyPodSpecDefaults(json::object& spec, PodSpecOwner owner) {
  if (IsUnsetString(spec, "dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
  if (IsUnsetString(spec, "restartPolicy")) spec["restartPolicy"] = "Always";
  SetIfAbsent(spec, "securityContext", json::object());
  SetIfAbsent(spec, "terminationGracePeriodSeconds", 30);
  if (IsUnsetString(spec, "schedulerName")) spec["schedulerName"] = "default-scheduler";
  bool host_network = FindBool(spec, {"hostNetwork"});
  for (std::string_view list : kContainerLists) {
    json::array* containers = FindMutArr(spec, {list});
    if (!containers) continue;
    for (json::value& cv : *containers) {
      json::object* c = cv.if_object();
      if (!c) continue;
      DefaultContainer(*c);
      if (owner == PodSpecOwner::kPod && list != "ephemeralContainers") {
        DefaultRequestsFromLimits(*c);
        if (host_network) DefaultHostPorts(*c);
      }
    }
  }
  if (json::array* volumes = FindMutArr(spec, {"volumes"})) {
    for (json::value& vv : *volumes) {
      if (json::object* v = vv.if_object()) DefaultVolume(*v);
    }
  }
  if (owner == PodSpecOwner::kPod) SetIfAbsent(spec, "enableServiceLinks", true);
}

// ---------------------------------------------------------------------------
// Validation

namespace {

void ValidateDnsLabel(const std::string& path, std::string_view value, FieldErrors& errs) {
  errs.InvalidEach(path, value, Dns1123LabelErrors(value));
}

void ValidateNonNegative(const json::object& obj, std::string_view field, const std::string& path,
                         FieldErrors& errs) {
  if (auto v = FindInt(obj, {field}); v && *v < 0) {
    errs.InvalidInt(Child(path, field), *v, "must be greater than or equal to 0");
  }
}

// A port given as number or IANA name (targetPort, probe ports).
void ValidatePortNumOrName(const json::value* port, const std::string& path, FieldErrors& errs) {
  if (!port) {
    errs.InvalidInt(path, 0, "must be between 1 and 65535, inclusive");
    return;
  }
  if (const json::string* s = port->if_string()) {
    errs.InvalidEach(path, *s, PortNameErrors(*s));
    return;
  }
  int64_t n = port->is_int64() ? port->get_int64() : port->is_uint64() ? 65536 : 0;
  for (const std::string& m : PortNumErrors(n)) errs.InvalidInt(path, n, m);
}

// Probes and lifecycle hooks: exactly one handler.
void ValidateHandler(const json::object& handler, const std::string& path, bool allow_sleep,
                     FieldErrors& errs) {
  int handlers = 0;
  auto one_more = [&](std::string_view name) {
    if (handlers > 0) {
      errs.Forbidden(Child(path, name), "may not specify more than 1 handler type");
      return false;
    }
    ++handlers;
    return true;
  };
  if (const json::object* exec = FindObj(handler, {"exec"}); exec && one_more("exec")) {
    if (CountAt(*exec, {"command"}) == 0) errs.Required(Child(Child(path, "exec"), "command"));
  }
  if (const json::object* http = FindObj(handler, {"httpGet"}); http && one_more("httpGet")) {
    std::string hp = Child(path, "httpGet");
    if (FindStr(*http, {"path"}).empty()) errs.Required(Child(hp, "path"));
    ValidatePortNumOrName(Find(*http, {"port"}), Child(hp, "port"), errs);
    std::string_view scheme = FindStr(*http, {"scheme"});
    if (!scheme.empty() && scheme != "HTTP" && scheme != "HTTPS") {
      errs.NotSupported(Child(hp, "scheme"), scheme, {"HTTP", "HTTPS"});
    }
  }
  if (const json::object* tcp = FindObj(handler, {"tcpSocket"}); tcp && one_more("tcpSocket")) {
    ValidatePortNumOrName(Find(*tcp, {"port"}), Child(Child(path, "tcpSocket"), "port"), errs);
  }
  if (const json::object* grpc = FindObj(handler, {"grpc"}); grpc && one_more("grpc")) {
    int64_t port = FindInt(*grpc, {"port"}).value_or(0);
    for (const std::string& m : PortNumErrors(port)) {
      errs.InvalidInt(Child(Child(path, "grpc"), "port"), port, m);
    }
  }
  if (allow_sleep && handler.contains("sleep")) one_more("sleep");
  if (handlers == 0) errs.Required(path, "must specify a handler type");
}

void ValidateProbe(const json::object& probe, const std::string& path, FieldErrors& errs) {
  ValidateHandler(probe, path, false, errs);
  for (std::string_view f : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                             "successThreshold", "failureThreshold"}) {
    ValidateNonNegative(probe, f, path, errs);
  }
  if (auto g = FindInt(probe, {"terminationGracePeriodSeconds"}); g && *g <= 0) {
    errs.InvalidInt(Child(path, "terminationGracePeriodSeconds"), *g, "must be greater than 0");
  }
}

void ValidateContainerPorts(const json::array& ports, const std::string& path, FieldErrors& errs) {
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); ++i) {
    const json::object* p = ports[i].if_object();
    if (!p) continue;
    std::string ip = Index(path, i);
    std::string_view name = FindStr(*p, {"name"});
    if (!name.empty()) {
      if (auto msgs = PortNameErrors(name); !msgs.empty()) {
        errs.InvalidEach(Child(ip, "name"), name, msgs);
      } else if (!names.emplace(name).second) {
        errs.Duplicate(Child(ip, "name"), GoQuote(name));
      }
    }
    int64_t container_port = FindInt(*p, {"containerPort"}).value_or(0);
    if (container_port == 0) {
      errs.Required(Child(ip, "containerPort"));
    } else {
      for (const std::string& m : PortNumErrors(container_port)) {
        errs.InvalidInt(Child(ip, "containerPort"), container_port, m);
      }
    }
    int64_t host_port = FindInt(*p, {"hostPort"}).value_or(0);
    if (host_port != 0) {
      for (const std::string& m : PortNumErrors(host_port)) {
        errs.InvalidInt(Child(ip, "hostPort"), host_port, m);
      }
    }
    std::string_view protocol = FindStr(*p, {"protocol"});
    if (protocol.empty()) {
      errs.Required(Child(ip, "protocol"));
    } else if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
      errs.NotSupported(Child(ip, "protocol"), protocol, {"SCTP", "TCP", "UDP"});
    }
  }
}

void ValidateEnv(const json::array& env, const std::string& path, FieldErrors& errs) {
  for (size_t i = 0; i < env.size(); ++i) {
    const json::object* e = env[i].if_object();
    if (!e) continue;
    std::string ip = Index(path, i);
    std::string_view name = FindStr(*e, {"name"});
    if (name.empty()) {
      errs.Required(Child(ip, "name"));
    } else {
      bool ok = true;
      for (char c : name) ok = ok && c >= 32 && c <= 126 && c != '=';
      if (!ok) {
        errs.InvalidString(Child(ip, "name"), name,
                           "a valid environment variable name must consist only of printable "
                           "ASCII characters other than '='");
      }
    }
    if (const json::object* from = FindObj(*e, {"valueFrom"})) {
      std::string fp = Child(ip, "valueFrom");
      size_t sources = 0;
      for (std::string_view s :
           {"fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"}) {
        if (from->contains(s)) ++sources;
      }
      if (sources == 0) {
        errs.Invalid(fp, "\"\"",
                     "must specify one of: `fieldRef`, `resourceFieldRef`, "
                     "`configMapKeyRef` or `secretKeyRef`");
      } else if (sources > 1) {
        errs.Invalid(fp, "\"\"", "may not have more than one field specified at a time");
      }
      if (!FindStr(*e, {"value"}).empty()) {
        errs.Invalid(fp, "\"\"", "may not be specified when `value` is not empty");
      }
      for (std::string_view ref : {"configMapKeyRef", "secretKeyRef"}) {
        if (const json::object* r = FindObj(*from, {ref})) {
          std::string rp = Child(fp, ref);
          std::string_view key = FindStr(*r, {"key"});
          if (key.empty()) {
            errs.Required(Child(rp, "key"));
          } else {
            errs.InvalidEach(Child(rp, "key"), key, ConfigMapKeyErrors(key));
          }
        }
      }
      if (const json::object* r = FindObj(*from, {"fieldRef"})) {
        if (FindStr(*r, {"fieldPath"}).empty())
          errs.Required(Child(Child(fp, "fieldRef"), "fieldPath"));
      }
    }
  }
}

void ValidateVolumeMounts(const json::array& mounts, const std::set<std::string>& volumes,
                          const std::string& path, FieldErrors& errs) {
  std::set<std::string> mount_points;
  for (size_t i = 0; i < mounts.size(); ++i) {
    const json::object* m = mounts[i].if_object();
    if (!m) continue;
    std::string ip = Index(path, i);
    std::string_view name = FindStr(*m, {"name"});
    if (name.empty()) errs.Required(Child(ip, "name"));
    if (!volumes.contains(std::string(name))) errs.NotFound(Child(ip, "name"), GoQuote(name));
    std::string_view mount_path = FindStr(*m, {"mountPath"});
    if (mount_path.empty()) errs.Required(Child(ip, "mountPath"));
    if (!mount_points.emplace(mount_path).second) {
      errs.InvalidString(Child(ip, "mountPath"), mount_path, "must be unique");
    }
  }
}

bool IsOvercommitAllowed(std::string_view resource) {
  // Kubernetes allows requests below limits for native resources only (not hugepages).
  bool native =
      resource.find('/') == std::string_view::npos || resource.starts_with("kubernetes.io/");
  return native && !resource.starts_with("hugepages-");
}

void ValidateResources(const json::object& resources, const std::string& path, FieldErrors& errs) {
  std::string lim_path = Child(path, "limits");
  std::string req_path = Child(path, "requests");
  const json::object* limits = FindObj(resources, {"limits"});
  const json::object* requests = FindObj(resources, {"requests"});
  auto check_value = [&](const std::string& p, std::string_view q) {
    auto parsed = Quantity::Parse(q);
    if (parsed && *parsed < Quantity())
      errs.InvalidString(p, q, "must be greater than or equal to 0");
  };
  if (limits) {
    for (const auto& kv : *limits) check_value(KeyOf(lim_path, kv.key()), StrOf(kv.value()));
  }
  if (!requests) return;
  for (const auto& kv : *requests) {
    std::string_view name = kv.key();
    std::string_view quantity = StrOf(kv.value());
    check_value(KeyOf(req_path, name), quantity);
    const json::value* limit = limits ? limits->if_contains(name) : nullptr;
    if (limit) {
      auto req = Quantity::Parse(quantity);
      auto lim = Quantity::Parse(StrOf(*limit));
      if (!req || !lim) continue;
      if (*req != *lim && !IsOvercommitAllowed(name)) {
        errs.InvalidString(
            req_path, quantity,
            "must be equal to " + std::string(name) + " limit of " + std::string(StrOf(*limit)));
      } else if (*req > *lim) {
        errs.InvalidString(req_path, quantity,
                           "must be less than or equal to " + std::string(name) + " limit of " +
                               std::string(StrOf(*limit)));
      }
    } else if (!IsOvercommitAllowed(name)) {
      errs.Required(lim_path, "Limit must be set for non overcommitable resources");
    }
  }
}

void ValidateContainerCommon(const json::object& c, const std::set<std::string>& volumes,
                             const std::string& path, FieldErrors& errs) {
  std::string_view name = FindStr(c, {"name"});
  if (name.empty()) {
    errs.Required(Child(path, "name"));
  } else {
    ValidateDnsLabel(Child(path, "name"), name, errs);
  }
  if (FindStr(c, {"image"}).empty()) errs.Required(Child(path, "image"));

  std::string_view tmp = FindStr(c, {"terminationMessagePolicy"});
  if (tmp.empty()) {
    errs.Required(Child(path, "terminationMessagePolicy"));
  } else if (tmp != "File" && tmp != "FallbackToLogsOnError") {
    errs.NotSupported(Child(path, "terminationMessagePolicy"), tmp,
                      {"File", "FallbackToLogsOnError"});
  }
  if (const json::array* ports = FindArr(c, {"ports"})) {
    ValidateContainerPorts(*ports, Child(path, "ports"), errs);
  }
  if (const json::array* env = FindArr(c, {"env"})) ValidateEnv(*env, Child(path, "env"), errs);
  if (const json::array* mounts = FindArr(c, {"volumeMounts"})) {
    ValidateVolumeMounts(*mounts, volumes, Child(path, "volumeMounts"), errs);
  }
  std::string_view pull = FindStr(c, {"imagePullPolicy"});
  if (pull.empty()) {
    errs.Required(Child(path, "imagePullPolicy"));
  } else if (pull != "Always" && pull != "IfNotPresent" && pull != "Never") {
    errs.NotSupported(Child(path, "imagePullPolicy"), pull, {"Always", "IfNotPresent", "Never"});
  }
  if (const json::object* resources = FindObj(c, {"resources"})) {
    ValidateResources(*resources, Child(path, "resources"), errs);
  }
}

void ValidateLifecycle(const json::object& c, const std::string& path, FieldErrors& errs) {
  const json::object* lifecycle = FindObj(c, {"lifecycle"});
  if (!lifecycle) return;
  std::string lp = Child(path, "lifecycle");
  for (std::string_view hook : {"postStart", "preStop"}) {
    if (const json::object* h = FindObj(*lifecycle, {hook})) {
      ValidateHandler(*h, Child(lp, hook), true, errs);
    }
  }
}

void ValidateRegularContainers(const json::array* containers, const std::set<std::string>& volumes,
                               const std::string& path, FieldErrors& errs,
                               std::set<std::string>& all_names) {
  if (!containers || containers->empty()) {
    errs.Required(path);
    return;
  }
  for (size_t i = 0; i < containers->size(); ++i) {
    const json::object* c = (*containers)[i].if_object();
    if (!c) continue;
    std::string cp = Index(path, i);
    ValidateContainerCommon(*c, volumes, cp, errs);
    if (c->contains("restartPolicy")) {
      errs.Forbidden(Child(cp, "restartPolicy"), "may not be set for non-init containers");
    }
    std::string name(FindStr(*c, {"name"}));
    if (!all_names.insert(name).second) errs.Duplicate(Child(cp, "name"), GoQuote(name));
    ValidateLifecycle(*c, cp, errs);
    if (const json::object* p = FindObj(*c, {"livenessProbe"})) {
      ValidateProbe(*p, Child(cp, "livenessProbe"), errs);
      if (auto s = FindInt(*p, {"successThreshold"}); s && *s != 1) {
        errs.InvalidInt(Child(Child(cp, "livenessProbe"), "successThreshold"), *s, "must be 1");
      }
    }
    if (const json::object* p = FindObj(*c, {"readinessProbe"})) {
      ValidateProbe(*p, Child(cp, "readinessProbe"), errs);
      if (auto g = FindInt(*p, {"terminationGracePeriodSeconds"})) {
        errs.InvalidInt(Child(Child(cp, "readinessProbe"), "terminationGracePeriodSeconds"), *g,
                        "must not be set for readinessProbes");
      }
    }
    if (const json::object* p = FindObj(*c, {"startupProbe"})) {
      ValidateProbe(*p, Child(cp, "startupProbe"), errs);
      if (auto s = FindInt(*p, {"successThreshold"}); s && *s != 1) {
        errs.InvalidInt(Child(Child(cp, "startupProbe"), "successThreshold"), *s, "must be 1");
      }
    }
  }
}

void ValidateInitContainers(const json::array* containers, const std::set<std::string>& volumes,
                            const std::string& path, FieldErrors& errs,
                            std::set<std::string>& all_names) {
  if (!containers) return;
  for (size_t i = 0; i < containers->size(); ++i) {
    const json::object* c = (*containers)[i].if_object();
    if (!c) continue;
    std::string cp = Index(path, i);
    ValidateContainerCommon(*c, volumes, cp, errs);
    bool restart_always = false;
    if (const json::value* rp = c->if_contains("restartPolicy")) {
      std::string_view policy = StrOf(*rp);
      if (policy != "Always") {
        errs.NotSupported(Child(cp, "restartPolicy"), policy, {"Always"});
      } else {
        restart_always = true;
      }
    }
    std::string name(FindStr(*c, {"name"}));
    if (all_names.contains(name)) {
      errs.Duplicate(Child(cp, "name"), GoQuote(name));
    } else if (!name.empty()) {
      all_names.insert(name);
    }
    if (restart_always) {
      ValidateLifecycle(*c, cp, errs);
      for (std::string_view probe : kProbes) {
        if (const json::object* p = FindObj(*c, {probe})) ValidateProbe(*p, Child(cp, probe), errs);
      }
    } else {
      for (std::string_view f : {"lifecycle", "livenessProbe", "readinessProbe", "startupProbe"}) {
        if (c->contains(f)) {
          errs.Forbidden(Child(cp, f),
                         "may not be set for init containers without restartPolicy=Always");
        }
      }
    }
  }
}

// Returns the names of the volumes that passed validation (mounts may only use those).
std::set<std::string> ValidateVolumes(const json::array* volumes, const std::string& path,
                                      FieldErrors& errs) {
  std::set<std::string> valid;
  std::set<std::string> seen;
  if (!volumes) return valid;
  for (size_t i = 0; i < volumes->size(); ++i) {
    const json::object* v = (*volumes)[i].if_object();
    if (!v) continue;
    size_t before = errs.size();
    std::string vp = Index(path, i);
    int sources = 0;
    for (std::string_view s : kVolumeSources) {
      if (!v->contains(s)) continue;
      if (sources++ > 0) errs.Forbidden(Child(vp, s), "may not specify more than 1 volume type");
    }
    if (sources == 0) errs.Required(vp, "must specify a volume type");
    if (const json::object* s = FindObj(*v, {"secret"}); s && FindStr(*s, {"secretName"}).empty()) {
      errs.Required(Child(Child(vp, "secret"), "secretName"));
    }
    if (const json::object* s = FindObj(*v, {"configMap"}); s && FindStr(*s, {"name"}).empty()) {
      errs.Required(Child(Child(vp, "configMap"), "name"));
    }
    if (const json::object* s = FindObj(*v, {"persistentVolumeClaim"});
        s && FindStr(*s, {"claimName"}).empty()) {
      errs.Required(Child(Child(vp, "persistentVolumeClaim"), "claimName"));
    }
    if (const json::object* s = FindObj(*v, {"hostPath"}); s && FindStr(*s, {"path"}).empty()) {
      errs.Required(Child(Child(vp, "hostPath"), "path"));
    }
    std::string name(FindStr(*v, {"name"}));
    if (name.empty()) {
      errs.Required(Child(vp, "name"));
    } else {
      ValidateDnsLabel(Child(vp, "name"), name, errs);
    }
    if (seen.contains(name)) errs.Duplicate(Child(vp, "name"), GoQuote(name));
    if (errs.size() == before) {
      seen.insert(name);
      valid.insert(name);
    }
  }
  return valid;
}

std::string GoToleration(const json::object& t) {
  std::string seconds = "(*int64)(nil)";
  if (auto s = FindInt(t, {"tolerationSeconds"})) seconds = "(*int64)(" + std::to_string(*s) + ")";
  return "core.Toleration{Key:" + GoQuote(FindStr(t, {"key"})) +
         ", Operator:" + GoQuote(FindStr(t, {"operator"})) +
         ", Value:" + GoQuote(FindStr(t, {"value"})) +
         ", Effect:" + GoQuote(FindStr(t, {"effect"})) + ", TolerationSeconds:" + seconds + "}";
}

}  // namespace

void ValidateTolerations(const json::array& tolerations, const std::string& path,
                         FieldErrors& errs) {
  for (size_t i = 0; i < tolerations.size(); ++i) {
    const json::object* t = tolerations[i].if_object();
    if (!t) continue;
    std::string tp = Index(path, i);
    std::string_view key = FindStr(*t, {"key"});
    std::string_view op = FindStr(*t, {"operator"});
    std::string_view value = FindStr(*t, {"value"});
    std::string_view effect = FindStr(*t, {"effect"});
    if (!key.empty()) errs.InvalidEach(Child(tp, "key"), key, QualifiedNameErrors(key));
    if (key.empty() && op != "Exists") {
      errs.InvalidString(Child(tp, "operator"), op,
                         "operator must be Exists when `key` is empty, which means \"match all "
                         "values and all keys\"");
    }
    if (t->contains("tolerationSeconds") && effect != "NoExecute") {
      errs.InvalidString(Child(tp, "effect"), effect,
                         "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    if (op.empty() || op == "Equal") {
      if (auto msgs = LabelValueErrors(value); !msgs.empty()) {
        std::string joined;
        for (const std::string& m : msgs) joined += (joined.empty() ? "" : ";") + m;
        errs.InvalidString(Child(tp, "operator"), value, joined);
      }
    } else if (op == "Exists") {
      if (!value.empty()) {
        errs.Invalid(Child(tp, "operator"), GoToleration(*t),
                     "value must be empty when `operator` is 'Exists'");
      }
    } else {
      errs.NotSupported(Child(tp, "operator"), op, {"Equal", "Exists"});
    }
    if (!effect.empty() && effect != "NoSchedule" && effect != "PreferNoSchedule" &&
        effect != "NoExecute") {
      errs.NotSupported(Child(tp, "effect"), effect,
                        {"NoSchedule", "PreferNoSchedule", "NoExecute"});
    }
  }
}

void ValidatePodSpec(const json::object& spec, const std::string& path, FieldErrors& errs) {
  std::set<std::string> volumes =
      ValidateVolumes(FindArr(spec, {"volumes"}), Child(path, "volumes"), errs);
  std::set<std::string> names;
  ValidateRegularContainers(FindArr(spec, {"containers"}), volumes, Child(path, "containers"), errs,
                            names);
  ValidateInitContainers(FindArr(spec, {"initContainers"}), volumes, Child(path, "initContainers"),
                         errs, names);

  if (FindBool(spec, {"hostNetwork"})) {
    if (const json::array* containers = FindArr(spec, {"containers"})) {
      for (size_t i = 0; i < containers->size(); ++i) {
        const json::object* c = (*containers)[i].if_object();
        const json::array* ports = c ? FindArr(*c, {"ports"}) : nullptr;
        if (!ports) continue;
        for (size_t p = 0; p < ports->size(); ++p) {
          const json::object* port = (*ports)[p].if_object();
          if (!port) continue;
          int64_t host = FindInt(*port, {"hostPort"}).value_or(0);
          int64_t container = FindInt(*port, {"containerPort"}).value_or(0);
          if (host != 0 && host != container) {
            errs.InvalidInt(
                Child(Index(Child(Index(Child(path, "containers"), i), "ports"), p), "hostPort"),
                host, "must match `containerPort` when `hostNetwork` is true");
          }
        }
      }
    }
  }

  std::string_view restart = FindStr(spec, {"restartPolicy"});
  if (restart.empty()) {
    errs.Required(Child(path, "restartPolicy"));
  } else if (restart != "Always" && restart != "OnFailure" && restart != "Never") {
    errs.NotSupported(Child(path, "restartPolicy"), restart, {"Always", "OnFailure", "Never"});
  }
  std::string_view dns = FindStr(spec, {"dnsPolicy"});
  if (dns.empty()) {
    errs.Required(Child(path, "dnsPolicy"));
  } else if (dns != "ClusterFirstWithHostNet" && dns != "ClusterFirst" && dns != "Default" &&
             dns != "None") {
    errs.NotSupported(Child(path, "dnsPolicy"), dns,
                      {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"});
  }
  if (dns == "None" && !FindObj(spec, {"dnsConfig"})) {
    errs.Required(Child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None");
  }
  if (const json::object* selector = FindObj(spec, {"nodeSelector"})) {
    ValidateLabelMap(*selector, Child(path, "nodeSelector"), errs);
  }
  std::string_view sa = FindStr(spec, {"serviceAccountName"});
  if (!sa.empty())
    errs.InvalidEach(Child(path, "serviceAccountName"), sa, Dns1123SubdomainErrors(sa));
  std::string_view node = FindStr(spec, {"nodeName"});
  if (!node.empty()) errs.InvalidEach(Child(path, "nodeName"), node, Dns1123SubdomainErrors(node));
  if (auto ads = FindInt(spec, {"activeDeadlineSeconds"}); ads && (*ads < 1 || *ads > kMaxInt32)) {
    errs.InvalidInt(Child(path, "activeDeadlineSeconds"), *ads,
                    "must be between 1 and 2147483647, inclusive");
  }
  std::string_view hostname = FindStr(spec, {"hostname"});
  if (!hostname.empty()) ValidateDnsLabel(Child(path, "hostname"), hostname, errs);
  std::string_view subdomain = FindStr(spec, {"subdomain"});
  if (!subdomain.empty()) ValidateDnsLabel(Child(path, "subdomain"), subdomain, errs);
  if (const json::array* tolerations = FindArr(spec, {"tolerations"})) {
    ValidateTolerations(*tolerations, Child(path, "tolerations"), errs);
  }
  if (const json::array* gates = FindArr(spec, {"readinessGates"})) {
    for (size_t i = 0; i < gates->size(); ++i) {
      const json::object* g = (*gates)[i].if_object();
      std::string_view type = g ? FindStr(*g, {"conditionType"}) : std::string_view();
      errs.InvalidEach(Child(Index(Child(path, "readinessGates"), i), "conditionType"), type,
                       QualifiedNameErrors(type));
    }
  }
}

void ValidatePodTemplate(const json::object& tmpl, const std::string& path, FieldErrors& errs) {
  if (const json::object* labels = FindObj(tmpl, {"metadata", "labels"})) {
    ValidateLabelMap(*labels, Child(path, "labels"), errs);
  }
  if (const json::object* annotations = FindObj(tmpl, {"metadata", "annotations"})) {
    for (const auto& kv : *annotations) {
      std::string lower(kv.key());
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (const std::string& m : QualifiedNameErrors(lower)) {
        errs.InvalidString(Child(path, "annotations"), kv.key(), m);
      }
    }
  }
  static const json::object kEmpty;
  const json::object* spec = FindObj(tmpl, {"spec"});
  ValidatePodSpec(spec ? *spec : kEmpty, Child(path, "spec"), errs);
  if (spec && CountAt(*spec, {"ephemeralContainers"}) > 0) {
    errs.Forbidden(Child(Child(path, "spec"), "ephemeralContainers"),
                   "ephemeral containers not allowed in pod template");
  }
}

// ---------------------------------------------------------------------------
// QoS and table cells

std::string PodQosClass(const json::object& spec) {
  std::map<std::string, Quantity> requests;
  std::map<std::string, Quantity> limits;
  bool guaranteed = true;
  for (std::string_view list : {"containers", "initContainers"}) {
    const json::array* containers = FindArr(spec, {list});
    if (!containers) continue;
    for (const json::value& cv : *containers) {
      const json::object* c = cv.if_object();
      if (!c) continue;
      auto add = [](const json::object* from, std::map<std::string, Quantity>& into,
                    std::set<std::string>* found) {
        if (!from) return;
        for (const auto& kv : *from) {
          if (kv.key() != "cpu" && kv.key() != "memory") continue;
          auto q = Quantity::Parse(StrOf(kv.value()));
          if (!q || *q <= Quantity()) continue;
          into[std::string(kv.key())] += *q;
          if (found) found->insert(std::string(kv.key()));
        }
      };
      // A limit without a request requests the limit (the pod default), whether or not
      // defaults have been applied yet.
      json::object effective_requests;
      if (const json::object* r = FindObj(*c, {"resources", "requests"})) effective_requests = *r;
      if (const json::object* l = FindObj(*c, {"resources", "limits"})) {
        for (const auto& kv : *l) {
          if (!effective_requests.contains(kv.key())) effective_requests[kv.key()] = kv.value();
        }
      }
      add(&effective_requests, requests, nullptr);
      std::set<std::string> limits_found;
      add(FindObj(*c, {"resources", "limits"}), limits, &limits_found);
      if (!limits_found.contains("cpu") || !limits_found.contains("memory")) guaranteed = false;
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  if (guaranteed) {
    for (const auto& [name, req] : requests) {
      auto it = limits.find(name);
      if (it == limits.end() || it->second != req) {
        guaranteed = false;
        break;
      }
    }
  }
  if (guaranteed && requests.size() == limits.size()) return "Guaranteed";
  return "Burstable";
}

namespace {

std::string JoinContainerField(const json::object* spec, std::string_view field) {
  std::string out;
  const json::array* containers = spec ? FindArr(*spec, {"containers"}) : nullptr;
  if (!containers) return out;
  for (size_t i = 0; i < containers->size(); ++i) {
    if (i) out += ',';
    if (const json::object* c = (*containers)[i].if_object()) out += FindStr(*c, {field});
  }
  return out;
}

}  // namespace

std::string ContainerNamesCell(const json::object* spec) {
  return JoinContainerField(spec, "name");
}

std::string ContainerImagesCell(const json::object* spec) {
  return JoinContainerField(spec, "image");
}

}  // namespace skiff::api::kinds
