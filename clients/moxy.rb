# frozen_string_literal: true

# Moxy URLs from Ruby, standard library only (docs/url-format.md, docs/clients.md).
#
#   require_relative "moxy"
#   Moxy.url("https://img.example.com", "https://example.org/cat.png", ENV.fetch("MOXY_KEY"))
#   # => "https://img.example.com/<signature>/aHR0cHM6Ly9leGFtcGxlLm9yZy9jYXQucG5n"
#   Moxy.url(base, url, key, key_id: "2", expires: Time.now + 3600, ext: "png")
#   Moxy.camo_url("https://camo.example.com", url, ENV.fetch("CAMO_KEY"))  # camo's hex form
#
# Leave key_id out when signing with the server's default key (no k option is written).
# As a program: ruby moxy.rb [--base URL] [--key-id ID] [--expires UNIX] [--ext EXT] [--camo] KEY URL
require "openssl"

module Moxy
  # Raised for input the server would refuse: better here than as a 400 or 403 later.
  class Error < ArgumentError; end

  module_function

  # The native Moxy URL for +url+: base + /<HMAC-SHA256>/[k<id>,e<unix>/]<base64url(url)>[.ext].
  def url(base, url, key, key_id: nil, expires: nil, ext: nil)
    check(url, key)
    options = []
    if key_id
      raise Error, "key_id must be 1-32 letters, digits, _ or -" unless key_id.to_s.match?(/\A[A-Za-z0-9_-]{1,32}\z/)
      options << "k#{key_id}"
    end
    if expires
      seconds = expires.to_i
      raise Error, "expires must be Unix seconds (0 to 12 digits)" unless seconds.between?(0, 999_999_999_999)
      options << "e#{seconds}"
    end
    rest = (options.empty? ? "" : "/#{options.join(",")}") + "/" + b64url(url.b)
    if ext
      raise Error, "ext must be 1-8 letters or digits" unless ext.to_s.match?(/\A[A-Za-z0-9]{1,8}\z/)
      rest += ".#{ext}"
    end
    signature = OpenSSL::HMAC.digest("SHA256", key.b, rest)
    base.to_s.chomp("/") + "/" + b64url(signature) + rest
  end

  # camo's hex form: base + /<hex HMAC-SHA1>/<hex url>, for Moxy with camo-hex enabled (or camo itself).
  def camo_url(base, url, key)
    check(url, key)
    base.to_s.chomp("/") + "/" + OpenSSL::HMAC.hexdigest("SHA1", key.b, url.b) + "/" + url.b.unpack1("H*")
  end

  def b64url(bytes)
    [bytes].pack("m0").tr("+/", "-_").delete("=")
  end

  def check(url, key)
    raise Error, "key must not be empty" if key.nil? || key.empty?
    raise Error, "url must be an absolute http:// or https:// URL" unless url.match?(%r{\Ahttps?://.}i)
    raise Error, "url contains spaces or control characters" if url.b.match?(/[\x00-\x20\x7F]/n)
    raise Error, "url is not valid UTF-8" unless url.dup.force_encoding("UTF-8").valid_encoding?
  end
  private_class_method :b64url, :check
end

if $PROGRAM_NAME == __FILE__
  named = {}
  args = []
  argv = ARGV.dup
  while (arg = argv.shift)
    if arg == "--camo" then named[:camo] = true
    elsif arg.start_with?("--") then named[arg[2..].tr("-", "_").to_sym] = argv.shift
    else args << arg
    end
  end
  abort "usage: ruby moxy.rb [--base URL] [--key-id ID] [--expires UNIX] [--ext EXT] [--camo] KEY URL" unless args.size == 2
  key, target = args
  begin
    puts(if named[:camo]
           Moxy.camo_url(named[:base], target, key)
         else
           Moxy.url(named[:base], target, key, key_id: named[:key_id],
                                               expires: named[:expires] && Integer(named[:expires], 10), ext: named[:ext])
         end)
  rescue ArgumentError => e
    abort "error: #{e.message}"
  end
end
