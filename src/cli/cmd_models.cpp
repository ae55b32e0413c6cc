// accel models [--family F] [--supported] [--key] [--json]: the model catalog.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "registry/catalog.h"

namespace accel::cli {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

struct ModelsOptions {
  std::string family;
  bool supported = false, key = false, json = false;
};

Action SetupModels(CLI::App& app) {
  auto o = std::make_shared<ModelsOptions>();
  app.add_option("--family", o->family, "only this family (text-embedding, text-generation, vision, audio, multimodal, ...)");
  app.add_flag("--supported", o->supported, "only model types the engine runs (proven by a test)");
  app.add_flag("--key", o->key, "only the 13 key model classes");
  app.add_flag("--json", o->json, "print JSON");
  return [o] {
    const auto& catalog = registry::ModelCatalog::Builtin();
    std::vector<const registry::CatalogEntry*> shown;
    bool family_known = o->family.empty();
    for (const auto& e : catalog.entries()) {
      family_known |= e.family == o->family;
      if (!o->family.empty() && e.family != o->family) continue;
      if (o->supported && e.support != registry::Support::kSupported) continue;
      if (o->key && !e.key_class) continue;
      shown.push_back(&e);
    }
    if (!family_known) return ReportError(InvalidArgument("--family '" + o->family + "' is not a family in the catalog"));
    if (o->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto* e : shown)
        out.push_back({{"model_type", e->model_type}, {"family", e->family}, {"subfamily", e->subfamily},
                       {"tasks", e->tasks}, {"modalities", e->modalities},
                       {"template", e->template_name.empty() ? nlohmann::json(nullptr) : nlohmann::json(e->template_name)},
                       {"support", registry::SupportName(e->support)}, {"key_class", e->key_class}});
      std::printf("%s\n", out.dump(1).c_str());
      return kExitOk;
    }
    std::printf("%-30s %-22s %-28s %-12s %-12s %s\n", "MODEL_TYPE", "FAMILY", "SUBFAMILY", "TEMPLATE", "SUPPORT", "TASKS");
    for (const auto* e : shown)
      std::printf("%-30s %-22s %-28s %-12s %-12s %s%s\n", e->model_type.c_str(), e->family.c_str(), e->subfamily.c_str(),
                  e->template_name.empty() ? "-" : e->template_name.c_str(), registry::SupportName(e->support),
                  Join(e->tasks).c_str(), e->key_class ? "  [key]" : "");
    std::printf("%zu of %zu model types\n", shown.size(), catalog.entries().size());
    return kExitOk;
  };
}
}  // namespace
ACCEL_REGISTER_COMMAND("models", "list the Hugging Face model types the catalog knows", SetupModels);
}  // namespace accel::cli
