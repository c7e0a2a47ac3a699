// PersistentVolume and PersistentVolumeClaim (core/v1): phases on create, access modes,
// capacity and storage requests, the single volume source of a PV, what may change after
// creation (a PV's source and volume mode are fixed; a claim's spec is fixed but for
// growing the storage request of a bound claim and setting volumeName once), and the
// `kubectl get pv` / `kubectl get pvc` tables.
#include <chrono>

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"
#include "base/k8s_names.h"
#include "base/k8s_time.h"
#include "base/quantity.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr std::string_view kBetaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class";

// The volume sources of a PersistentVolumeSpec.
constexpr std::string_view kVolumeSources[] = {"gcePersistentDisk",
                                               "awsElasticBlockStore",
                                               "hostPath",
                                               "glusterfs",
                                               "nfs",
                                               "rbd",
                                               "iscsi",
                                               "cinder",
                                               "cephfs",
                                               "fc",
                                               "flocker",
                                               "flexVolume",
                                               "azureFile",
                                               "vsphereVolume",
                                               "quobyte",
                                               "azureDisk",
                                               "photonPersistentDisk",
                                               "portworxVolume",
                                               "scaleIO",
                                               "local",
                                               "storageos",
                                               "csi"};

// helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once.
std::string AccessModesCell(const json::array* modes) {
  auto has = [&](std::string_view mode) {
    if (!modes) return false;
    for (const json::value& v : *modes) {
      if (v.is_string() && v.get_string() == mode) return true;
    }
    return false;
  };
  std::string out;
  auto add = [&](std::string_view mode, std::string_view abbrev) {
    if (!has(mode)) return;
    if (!out.empty()) out += ",";
    out += abbrev;
  };
  add("ReadWriteOnce", "RWO");
  add("ReadOnlyMany", "ROX");
  add("ReadWriteMany", "RWX");
  add("ReadWriteOncePod", "RWOP");
  return out;
}

std::string StorageClassCell(const json::object& obj) {
  if (const json::value* a = Find(obj, {"metadata", "annotations", kBetaStorageClassAnnotation})) {
    if (a->is_string()) return std::string(a->get_string());
  }
  return std::string(FindStr(obj, {"spec", "storageClassName"}));
}

void ValidateAccessModes(const json::array* modes, const std::string& path,
                         std::string_view required_detail, FieldErrors& errs) {
  if (!modes || modes->empty()) {
    errs.Required(path, required_detail);
    return;
  }
  bool read_write_once_pod = false;
  for (const json::value& v : *modes) {
    std::string_view mode = v.is_string() ? std::string_view(v.get_string()) : std::string_view();
    if (mode == "ReadWriteOncePod") read_write_once_pod = true;
    if (mode != "ReadWriteOnce" && mode != "ReadOnlyMany" && mode != "ReadWriteMany" &&
        mode != "ReadWriteOncePod") {
      errs.NotSupported(path, mode,
                        {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"});
    }
  }
  if (read_write_once_pod && modes->size() > 1) {
    errs.Forbidden(path, "may not use ReadWriteOncePod with other access modes");
  }
}

void ValidateVolumeMode(const json::object& spec, const std::string& path, FieldErrors& errs) {
  const json::value* v = spec.if_contains("volumeMode");
  if (!v || v->is_null()) return;
  std::string_view mode = v->is_string() ? std::string_view(v->get_string()) : std::string_view();
  if (mode != "Block" && mode != "Filesystem")
    errs.NotSupported(path, mode, {"Block", "Filesystem"});
}

void ValidateStorageClassName(const json::object& spec, const std::string& path,
                              FieldErrors& errs) {
  std::string_view name = FindStr(spec, {"storageClassName"});
  if (!name.empty()) errs.InvalidEach(path, name, IsDns1123Subdomain(name));
}

// The quantity at `key` of the resource list at `list`, nullopt when absent or invalid.
std::optional<Quantity> QuantityAt(const json::object& obj, JsonPath list, std::string_view key) {
  const json::object* map = FindObj(obj, list);
  if (!map) return std::nullopt;
  const json::value* v = map->if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  auto q = Quantity::Parse(v->get_string());
  if (!q) return std::nullopt;
  return *q;
}

void ValidatePositiveStorage(const json::object& resources, const std::string& path,
                             FieldErrors& errs) {
  for (const auto& kv : resources) {
    if (!kv.value().is_string()) continue;
    auto q = Quantity::Parse(kv.value().get_string());
    if (q && q->Sign() <= 0) {
      errs.InvalidString(KeyOf(path, kv.key()), q->ToString(), "must be greater than zero");
    }
  }
}

// ---------------------------------------------------------------------------------------

class PersistentVolumeStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }

  void PrepareForCreate(json::object& obj) const override {
    obj["status"] =
        json::object{{"phase", "Pending"},
                     {"lastPhaseTransitionTime", FormatRfc3339(std::chrono::system_clock::now())}};
  }

  void PrepareForUpdate(json::object& obj, const json::object& old) const override {
    std::string_view phase = FindStr(obj, {"status", "phase"});
    if (phase != FindStr(old, {"status", "phase"})) {
      EnsureObj(obj, {"status"})["lastPhaseTransitionTime"] =
          FormatRfc3339(std::chrono::system_clock::now());
    }
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    ValidateAccessModes(FindArr(spec, {"accessModes"}), "spec.accessModes", "", errs);

    const json::object* capacity = FindObj(spec, {"capacity"});
    if (!capacity || capacity->empty()) {
      errs.Required("spec.capacity");
    }
    if (capacity) {
      for (const auto& kv : *capacity) {
        if (kv.key() != "storage") errs.NotSupported("spec.capacity", kv.key(), {"storage"});
      }
    }
    if (capacity) ValidatePositiveStorage(*capacity, "spec.capacity", errs);

    std::string_view policy = FindStr(spec, {"persistentVolumeReclaimPolicy"});
    if (!policy.empty() && policy != "Delete" && policy != "Recycle" && policy != "Retain") {
      errs.NotSupported("spec.persistentVolumeReclaimPolicy", policy,
                        {"Delete", "Recycle", "Retain"});
    }
    ValidateStorageClassName(spec, "spec.storageClassName", errs);
    ValidateVolumeMode(spec, "spec.volumeMode", errs);

    int sources = 0;
    for (std::string_view source : kVolumeSources) {
      const json::value* v = spec.if_contains(source);
      if (!v || v->is_null()) continue;
      if (++sources > 1) {
        errs.Forbidden(Child("spec", source), "may not specify more than 1 volume type");
      }
    }
    if (sources == 0) errs.Required("spec", "must specify a volume type");
    ValidateSourceFields(spec, errs);

    if (!old) return;
    const json::object* old_spec_ptr = FindObj(*old, {"spec"});
    const json::object& old_spec = old_spec_ptr ? *old_spec_ptr : kEmpty;
    for (std::string_view source : kVolumeSources) {
      if (!SemanticEqualMember(spec.if_contains(source), old_spec.if_contains(source))) {
        errs.Forbidden("spec.persistentvolumesource",
                       "spec.persistentvolumesource is immutable after creation");
        break;
      }
    }
    std::string_view mode = FindStr(spec, {"volumeMode"});
    if (mode != FindStr(old_spec, {"volumeMode"})) {
      errs.InvalidString("volumeMode", mode, "field is immutable");
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Capacity", "string", "", "Size of the volume.", 0},
            {"Access Modes", "string", "", "Ways the volume can be mounted.", 0},
            {"Reclaim Policy", "string", "",
             "What happens to the volume when its claim is released.", 0},
            {"Status", "string", "", "Lifecycle phase of the volume.", 0},
            {"Claim", "string", "", "The claim bound to this volume.", 0},
            {"StorageClass", "string", "", "StorageClass of the pv", 0},
            {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pv", 0},
            {"Reason", "string", "", "Machine-readable reason for a failure.", 0},
            AgeColumn(),
            {"VolumeMode", "string", "",
             "Whether the volume is used with a filesystem or as a raw block device.", 1}};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    std::string claim;
    if (const json::object* ref = FindObj(obj, {"spec", "claimRef"})) {
      claim =
          std::string(FindStr(*ref, {"namespace"})) + "/" + std::string(FindStr(*ref, {"name"}));
    }
    auto storage = QuantityAt(obj, {"spec", "capacity"}, "storage");
    std::string phase(FindStr(obj, {"status", "phase"}));
    if (Find(obj, {"metadata", "deletionTimestamp"})) phase = "Terminating";
    const json::value* attributes_class = Find(obj, {"spec", "volumeAttributesClassName"});
    std::string_view mode = FindStr(obj, {"spec", "volumeMode"});
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(storage ? storage->ToString() : "0");
    cells.emplace_back(AccessModesCell(FindArr(obj, {"spec", "accessModes"})));
    cells.emplace_back(FindStr(obj, {"spec", "persistentVolumeReclaimPolicy"}));
    cells.emplace_back(phase);
    cells.emplace_back(claim);
    cells.emplace_back(StorageClassCell(obj));
    cells.emplace_back(attributes_class && attributes_class->is_string()
                           ? std::string(attributes_class->get_string())
                           : "<unset>");
    cells.emplace_back(FindStr(obj, {"status", "reason"}));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(mode.empty() ? std::string_view("<unset>") : mode);
  }

 private:
  // The required fields of the common sources, and local volumes' node affinity.
  static void ValidateSourceFields(const json::object& spec, FieldErrors& errs) {
    if (const json::object* host_path = FindObj(spec, {"hostPath"})) {
      std::string_view path = FindStr(*host_path, {"path"});
      if (path.empty()) errs.Required("spec.hostPath.path");
    }
    if (const json::object* nfs = FindObj(spec, {"nfs"})) {
      if (FindStr(*nfs, {"server"}).empty()) errs.Required("spec.nfs.server");
      std::string_view path = FindStr(*nfs, {"path"});
      if (path.empty()) {
        errs.Required("spec.nfs.path");
      } else if (!path.starts_with("/")) {
        errs.InvalidString("spec.nfs.path", path, "must be an absolute path");
      }
    }
    if (const json::object* local = FindObj(spec, {"local"})) {
      if (FindStr(*local, {"path"}).empty()) errs.Required("spec.local.path");
      if (!Find(spec, {"nodeAffinity"})) {
        errs.Required("spec.nodeAffinity", "Local volumes require node affinity");
      }
    }
    if (const json::object* csi = FindObj(spec, {"csi"})) {
      if (FindStr(*csi, {"driver"}).empty()) errs.Required("spec.csi.driver");
      if (FindStr(*csi, {"volumeHandle"}).empty()) errs.Required("spec.csi.volumeHandle");
    }
  }
};

// ---------------------------------------------------------------------------------------

class PersistentVolumeClaimStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }

  void PrepareForCreate(json::object& obj) const override {
    obj["status"] = json::object{{"phase", "Pending"}};
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    ValidateAccessModes(FindArr(spec, {"accessModes"}), "spec.accessModes",
                        "at least 1 access mode is required", errs);
    if (const json::object* selector = FindObj(spec, {"selector"})) {
      ValidateLabelSelector(*selector, "spec.selector", errs);
    }
    const json::value* storage = Find(spec, {"resources", "requests", "storage"});
    if (!storage) {
      errs.Required("spec.resources[storage]");
    } else if (storage->is_string()) {
      auto q = Quantity::Parse(storage->get_string());
      if (q && q->Sign() <= 0) {
        errs.InvalidString("spec.resources[storage]", q->ToString(), "must be greater than zero");
      }
    }
    ValidateStorageClassName(spec, "spec.storageClassName", errs);
    ValidateVolumeMode(spec, "spec.volumeMode", errs);

    if (!old) return;
    const json::object* old_spec_ptr = FindObj(*old, {"spec"});
    const json::object& old_spec = old_spec_ptr ? *old_spec_ptr : kEmpty;
    json::object now = spec;
    json::object before = old_spec;
    // volumeName may be set once, by the binder.
    if (FindStr(old_spec, {"volumeName"}).empty()) {
      now.erase("volumeName");
      before.erase("volumeName");
    }
    // A bound claim may change its storage request (expansion); checked below.
    if (FindStr(obj, {"status", "phase"}) == "Bound") {
      if (json::object* requests = FindMutObj(now, {"resources", "requests"})) {
        requests->erase("storage");
      }
      if (json::object* requests = FindMutObj(before, {"resources", "requests"})) {
        requests->erase("storage");
      }
    }
    if (!SemanticEqual(json::value(now), json::value(before))) {
      errs.Forbidden("spec",
                     "spec is immutable after creation except resources.requests for bound "
                     "claims");
    }
    auto new_size = QuantityAt(spec, {"resources", "requests"}, "storage");
    auto old_size = QuantityAt(old_spec, {"resources", "requests"}, "storage");
    if (new_size && old_size && *new_size < *old_size) {
      auto status_size = QuantityAt(*old, {"status", "capacity"}, "storage");
      if (!status_size || *new_size <= *status_size) {
        errs.Forbidden("spec.resources.requests.storage",
                       "field can not be less than status.capacity");
      }
    }
    std::string_view mode = FindStr(spec, {"volumeMode"});
    if (mode != FindStr(old_spec, {"volumeMode"})) {
      errs.InvalidString("volumeMode", mode, "field is immutable");
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Status", "string", "", "Phase of the claim.", 0},
            {"Volume", "string", "", "The volume bound to the claim.", 0},
            {"Capacity", "string", "", "Actual resources of the bound volume.", 0},
            {"Access Modes", "string", "", "Access modes of the bound volume.", 0},
            {"StorageClass", "string", "", "StorageClass of the pvc", 0},
            {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pvc", 0},
            AgeColumn(),
            {"VolumeMode", "string", "",
             "Whether the volume is used with a filesystem or as a raw block device.", 1}};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    std::string phase(FindStr(obj, {"status", "phase"}));
    if (Find(obj, {"metadata", "deletionTimestamp"})) phase = "Terminating";
    std::string_view volume = FindStr(obj, {"spec", "volumeName"});
    std::string capacity, modes;
    if (!volume.empty()) {
      modes = AccessModesCell(FindArr(obj, {"status", "accessModes"}));
      auto storage = QuantityAt(obj, {"status", "capacity"}, "storage");
      capacity = storage ? storage->ToString() : "0";
    }
    const json::value* attributes_class = Find(obj, {"spec", "volumeAttributesClassName"});
    std::string_view mode = FindStr(obj, {"spec", "volumeMode"});
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(phase);
    cells.emplace_back(volume);
    cells.emplace_back(capacity);
    cells.emplace_back(modes);
    cells.emplace_back(StorageClassCell(obj));
    cells.emplace_back(attributes_class && attributes_class->is_string() &&
                               !attributes_class->get_string().empty()
                           ? std::string(attributes_class->get_string())
                           : "<unset>");
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(mode.empty() ? std::string_view("<unset>") : mode);
  }
};

}  // namespace

const KindStrategy& PersistentVolumeStrategy() {
  static const PersistentVolumeStrategyImpl strategy;
  return strategy;
}

const KindStrategy& PersistentVolumeClaimStrategy() {
  static const PersistentVolumeClaimStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
