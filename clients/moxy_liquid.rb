# frozen_string_literal: true

# A Liquid filter that turns image URLs into Moxy URLs: Jekyll, or any Liquid (docs/clients.md).
#
# Jekyll: copy moxy.rb and this file into _plugins/, export MOXY_KEY (never put it in _config.yml,
# which is usually public), and in _config.yml:
#
#   moxy:
#     base: https://img.example.com
#     key_id: "2"           # optional: a key other than the server's default
#
#   <img src="{{ page.image | moxy }}">   <img src="{{ "https://example.org/cat.png" | moxy: "png" }}">
#
# Plain Liquid: require this file; settings come from context.registers[:moxy] ({"base", "key",
# "key_id"}) or MOXY_BASE, MOXY_KEY and MOXY_KEY_ID. Relative URLs (a site's own images) and empty
# values pass through unchanged; anything else the server would refuse raises Moxy::Error.
require_relative "moxy"

module MoxyFilter
  def moxy(url, ext = nil)
    url = url.to_s
    return url unless url.match?(%r{\Ahttps?://}i)
    settings = moxy_settings
    Moxy.url(settings["base"], url, settings["key"], key_id: settings["key_id"], ext: ext)
  end

  private

  def moxy_settings
    site = @context.registers[:site]
    config = (site.config["moxy"] if site.respond_to?(:config)) || @context.registers[:moxy] || {}
    {
      "base" => config["base"] || ENV.fetch("MOXY_BASE", nil),
      "key" => config["key"] || ENV.fetch("MOXY_KEY") { raise Moxy::Error, "set MOXY_KEY to sign Moxy URLs" },
      "key_id" => config["key_id"] || ENV.fetch("MOXY_KEY_ID", nil),
    }
  end
end

if defined?(Liquid::Template)
  Liquid::Template.register_filter(MoxyFilter)
else
  warn "moxy_liquid.rb: require \"liquid\" (or run under Jekyll) before this file"
end
