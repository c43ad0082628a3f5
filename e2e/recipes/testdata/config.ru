run lambda { |env| [200, {"Content-Type" => "application/json"}, ["{\"pid\": #{Process.pid}, \"generation\": \"#{ENV['BATON_GENERATION']}\"}\n"]] }
