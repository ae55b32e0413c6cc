#include "registry/classifier.h"

#include <algorithm>
#include <map>

namespace accel::registry {

namespace {

struct Guess {
  std::string family, subfamily;
  std::vector<std::string> tasks, modalities;
};

// Architecture class suffixes (HF's head naming convention) -> what the head does.
struct HeadRule {
  const char* suffix;
  Guess guess;
};
const std::vector<HeadRule>& HeadRules() {
  static const std::vector<HeadRule> rules = {
      {"ForCausalLM", {"text-generation", "decoder-only", {"text-generation"}, {"text"}}},
      {"LMHeadModel", {"text-generation", "decoder-only", {"text-generation"}, {"text"}}},
      {"ForMaskedLM", {"text-embedding", "text-encoder", {"fill-mask"}, {"text"}}},
      {"ForSequenceClassification", {"text-embedding", "text-encoder", {"text-classification"}, {"text"}}},
      {"ForTokenClassification", {"text-embedding", "text-encoder", {"token-classification"}, {"text"}}},
      {"ForQuestionAnswering", {"text-embedding", "text-encoder", {"question-answering"}, {"text"}}},
      {"ForMultipleChoice", {"text-embedding", "text-encoder", {"multiple-choice"}, {"text"}}},
      {"ForSeq2SeqLM", {"text2text-generation", "encoder-decoder", {"text2text-generation"}, {"text"}}},
      {"ForImageClassification", {"vision", "image-backbone", {"image-classification"}, {"image"}}},
      {"ForObjectDetection", {"vision", "object-detection", {"object-detection"}, {"image"}}},
      {"ForSemanticSegmentation", {"vision", "image-segmentation", {"image-segmentation"}, {"image"}}},
      {"ForInstanceSegmentation", {"vision", "image-segmentation", {"image-segmentation"}, {"image"}}},
      {"ForUniversalSegmentation", {"vision", "image-segmentation", {"image-segmentation"}, {"image"}}},
      {"ForDepthEstimation", {"vision", "depth-estimation", {"depth-estimation"}, {"image"}}},
      {"ForVideoClassification", {"vision", "video-classification", {"video-classification"}, {"video"}}},
      {"ForCTC", {"audio", "speech-encoder", {"automatic-speech-recognition"}, {"audio"}}},
      {"ForSpeechSeq2Seq", {"audio", "speech-seq2seq", {"automatic-speech-recognition"}, {"audio"}}},
      {"ForAudioClassification", {"audio", "audio-classification", {"audio-classification"}, {"audio"}}},
      {"ForTextToSpeech", {"audio", "text-to-audio", {"text-to-audio"}, {"text", "audio"}}},
      {"ForVision2Seq", {"multimodal", "vision-language-generation", {"image-text-to-text"}, {"text", "image"}}},
      {"ForImageTextToText", {"multimodal", "vision-language-generation", {"image-text-to-text"}, {"text", "image"}}},
      {"ForVisualQuestionAnswering", {"multimodal", "visual-question-answering", {"visual-question-answering"}, {"text", "image"}}},
      {"ForZeroShotObjectDetection", {"multimodal", "open-vocabulary-detection", {"zero-shot-object-detection"}, {"text", "image"}}},
      {"ForTimeSeriesForecasting", {"time-series", "forecasting", {"time-series-forecasting"}, {"time-series"}}},
      {"ForPrediction", {"time-series", "forecasting", {"time-series-forecasting"}, {"time-series"}}},
  };
  return rules;
}

const HeadRule* MatchHead(const std::string& arch) {
  const HeadRule* best = nullptr;
  for (const auto& r : HeadRules()) {
    std::string_view s = r.suffix;
    if (arch.size() >= s.size() && arch.compare(arch.size() - s.size(), s.size(), s) == 0 &&
        (!best || s.size() > std::string_view(best->suffix).size()))
      best = &r;
  }
  return best;
}

bool Contains(const std::string& haystack, const char* needle) {
  std::string h = haystack;
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return h.find(needle) != std::string::npos;
}

// The vote for models the catalog does not know. Each signal adds weight to a guess.
struct Ballot {
  std::map<std::string, double> score;
  std::map<std::string, Guess> guess;
  std::vector<std::string>* evidence;
  void Vote(double weight, const Guess& g, const std::string& why) {
    score[g.family] += weight;
    // The strongest single signal for a family decides its subfamily and tasks.
    if (!guess.count(g.family) || weight >= 2.0) guess[g.family] = g;
    evidence->push_back(why + " -> " + g.family + " (+" + std::to_string(weight).substr(0, 3) + ")");
  }
};

void VoteFromConfig(const ModelEvidence& ev, Ballot& b) {
  const HfConfig& c = ev.config;
  bool vision = c.Has("vision_config"), text = c.Has("text_config"), audio = c.Has("audio_config");
  if (vision && text) {
    bool contrastive = c.Has("projection_dim") || c.Has("logit_scale_init_value");
    if (contrastive)
      b.Vote(2.5, {"multimodal", "vision-language-contrastive", {"zero-shot-image-classification", "feature-extraction"}, {"text", "image"}},
             "config has vision_config + text_config + projection_dim");
    else
      b.Vote(2.5, {"multimodal", "vision-language-generation", {"image-text-to-text"}, {"text", "image"}},
             "config has vision_config + text_config");
  } else if (vision) {
    b.Vote(2.0, {"multimodal", "vision-language-generation", {"image-text-to-text"}, {"text", "image"}},
           "config has vision_config");
  }
  if (audio && text)
    b.Vote(2.5, {"multimodal", "audio-language", {"feature-extraction"}, {"text", "audio"}}, "config has audio_config + text_config");
  if (c.Has("num_mel_bins"))
    b.Vote(2.0, {"audio", "speech-seq2seq", {"automatic-speech-recognition"}, {"audio"}}, "config has num_mel_bins");
  if (c.Has("conv_dim") || c.Has("feat_extract_norm"))
    b.Vote(2.0, {"audio", "speech-encoder", {"automatic-speech-recognition", "feature-extraction"}, {"audio"}},
           "config has conv_dim/feat_extract_norm (waveform front-end)");
  bool has_vocab = c.Has("vocab_size");
  if (!has_vocab && (c.Has("image_size") || c.Has("patch_size")) && c.Has("num_channels"))
    b.Vote(1.5, {"vision", "image-backbone", {"image-classification", "image-feature-extraction"}, {"image"}},
           "config has image_size/patch_size + num_channels, no vocab");
  if (c.BoolOr("is_encoder_decoder", false) && !c.Has("num_mel_bins"))
    b.Vote(1.5, {"text2text-generation", "encoder-decoder", {"text2text-generation"}, {"text"}},
           "config is_encoder_decoder = true");
  if (has_vocab && !c.BoolOr("is_encoder_decoder", false) &&
      (c.Has("num_key_value_heads") || c.Has("rope_theta") || c.Has("rope_scaling"))) {
    bool moe = c.Has("num_local_experts") || c.Has("num_experts");
    b.Vote(1.5, {"text-generation", moe ? "decoder-only-moe" : "decoder-only", {"text-generation"}, {"text"}},
           "config has num_key_value_heads/rope_theta (rotary decoder)");
  }
  if (has_vocab && c.Has("type_vocab_size"))
    b.Vote(1.0, {"text-embedding", "text-encoder", {"feature-extraction"}, {"text"}}, "config has type_vocab_size (BERT-style segments)");
  if (c.Has("state_size") || c.Has("ssm_cfg") || c.Has("d_state"))
    b.Vote(1.5, {"text-generation", "state-space", {"text-generation"}, {"text"}}, "config has state_size (state-space model)");
  if (c.Has("prediction_length") || c.Has("context_length"))
    b.Vote(1.0, {"time-series", "forecasting", {"time-series-forecasting"}, {"time-series"}}, "config has prediction_length");
}

void VoteFromFiles(const ModelEvidence& ev, Ballot& b) {
  if (!ev.preprocessor.is_null()) {
    std::string fe = ev.preprocessor.value("feature_extractor_type", "");
    std::string ip = ev.preprocessor.value("image_processor_type", "");
    if (!fe.empty() && (Contains(fe, "whisper") || Contains(fe, "wav2vec") || Contains(fe, "audio") || Contains(fe, "speech")))
      b.Vote(1.0, {"audio", "speech-encoder", {"automatic-speech-recognition"}, {"audio"}},
             "preprocessor_config.json feature_extractor_type " + fe);
    else if (!ip.empty() || ev.preprocessor.contains("image_mean"))
      b.Vote(0.8, {"vision", "image-backbone", {"image-classification"}, {"image"}},
             "preprocessor_config.json is an image processor");
  }
  if (!ev.tokenizer_config.is_null() && ev.tokenizer_config.contains("chat_template"))
    b.Vote(1.0, {"text-generation", "decoder-only", {"text-generation"}, {"text"}}, "tokenizer_config.json has a chat_template");
  if (ev.files.count("generation_config.json") && !ev.config.BoolOr("is_encoder_decoder", false))
    b.Vote(0.5, {"text-generation", "decoder-only", {"text-generation"}, {"text"}}, "generation_config.json present");
  if (ev.files.count("modules.json") || ev.files.count("sentence_bert_config.json"))
    b.Vote(1.5, {"text-embedding", "sentence-embedding", {"feature-extraction", "sentence-similarity"}, {"text"}},
           "sentence-transformers files present");
}

void VoteFromName(const ModelEvidence& ev, Ballot& b) {
  const std::string& n = ev.spec;
  auto vote = [&](std::initializer_list<const char*> pats, double w, const Guess& g) {
    for (const char* p : pats)
      if (Contains(n, p)) {
        b.Vote(w, g, std::string("name contains '") + p + "'");
        return;
      }
  };
  vote({"embed", "minilm", "bge-", "e5-", "gte-", "sentence"}, 0.5, {"text-embedding", "text-encoder", {"feature-extraction"}, {"text"}});
  vote({"instruct", "-chat", "coder"}, 0.5, {"text-generation", "decoder-only", {"text-generation"}, {"text"}});
  vote({"whisper", "wav2vec", "hubert", "speech"}, 0.5, {"audio", "speech-encoder", {"automatic-speech-recognition"}, {"audio"}});
  vote({"vit", "resnet", "convnext", "dino"}, 0.5, {"vision", "image-backbone", {"image-classification"}, {"image"}});
}

void ApplyHeadTask(const HeadRule& rule, Classification& out) {
  // The head names the task; keep the catalog's family (a BERT with a classification head is
  // still a text encoder).
  const std::string& task = rule.guess.tasks.front();
  auto it = std::find(out.tasks.begin(), out.tasks.end(), task);
  if (it != out.tasks.end()) out.tasks.erase(it);
  out.tasks.insert(out.tasks.begin(), task);
}

// How many keys (nested ones included) came from the config class's defaults.
int CountFilled(const nlohmann::json& filled) {
  int n = 0;
  for (const auto& v : filled) n += v.is_object() ? CountFilled(v) : 1;
  return n;
}

}  // namespace

Classification Classify(const ModelEvidence& ev, const ModelCatalog& catalog) {
  Classification out;
  out.model_type = ev.config.model_type();
  std::string arch = ev.config.architecture();
  const HeadRule* head = arch.empty() ? nullptr : MatchHead(arch);
  const CatalogEntry* entry = catalog.Find(out.model_type);
  if (entry) {
    out.in_catalog = true;
    out.family = entry->family;
    out.subfamily = entry->subfamily;
    out.tasks = entry->tasks;
    out.modalities = entry->modalities;
    out.template_name = entry->template_name;
    out.support = entry->support;
    out.key_class = entry->key_class;
    out.confidence = 0.95;
    out.evidence.push_back("model_type '" + out.model_type + "' is in the catalog as " + entry->family + "/" +
                           entry->subfamily);
    if (int filled = CountFilled(ev.config.defaulted()); filled > 0)
      out.evidence.push_back(std::to_string(filled) + " keys config.json omits filled from the " + out.model_type +
                             " config class's defaults");
    if (head) {
      ApplyHeadTask(*head, out);
      out.confidence = 0.99;
      out.evidence.push_back("architectures[0] " + arch + " -> task " + out.tasks.front());
    }
    return out;
  }
  out.evidence.push_back(out.model_type.empty() ? std::string("config.json has no model_type")
                                                : "model_type '" + out.model_type + "' is not in the catalog");
  Ballot ballot{{}, {}, &out.evidence};
  if (head)
    ballot.Vote(3.0, head->guess, "architectures[0] " + arch + " ends in " + head->suffix);
  VoteFromConfig(ev, ballot);
  VoteFromFiles(ev, ballot);
  VoteFromName(ev, ballot);
  double total = 0, best = 0;
  std::string best_family;
  for (const auto& [family, score] : ballot.score) {
    total += score;
    if (score > best) {
      best = score;
      best_family = family;
    }
  }
  if (best_family.empty()) {
    out.family = "unknown";
    out.subfamily = "unknown";
    out.confidence = 0;
    out.evidence.push_back("no signal points to a family");
    return out;
  }
  const Guess& g = ballot.guess[best_family];
  out.family = g.family;
  out.subfamily = g.subfamily;
  out.tasks = g.tasks;
  out.modalities = g.modalities;
  if (head && head->guess.family == out.family) ApplyHeadTask(*head, out);
  // Share of the vote, scaled by how much evidence there was (one weak hint is not 100%), and
  // never as sure as a catalog match.
  double share = best / total;
  double strength = std::min(1.0, best / 4.0);
  out.confidence = std::min(0.9, share * (0.4 + 0.6 * strength));
  return out;
}

}  // namespace accel::registry
