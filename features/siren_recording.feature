Feature: Siren and evidence recording on a long press
  A long press sounds the siren at full volume (overriding silent mode) and records
  audio; a second long press, or a triple press, stops both. The recording is stored
  with its start and end time, the position and a SHA-256 digest.

  Background:
    Given a button paired with a phone
    And the phone has 2 emergency contacts

  Scenario: A long press starts siren and recording, a second stops them
    When the wearer holds the button for 2.5 s
    Then the siren is on
    And an audio recording is in progress
    When 20 seconds pass
    And the wearer holds the button for 2 s
    Then within 2 s the siren is off
    And within 2 s an audio recording of at least 20 s is stored
    And no SMS is sent

  Scenario: A triple press stops the siren
    When the wearer holds the button for 3 s
    And 1 minutes pass
    And the wearer triple-presses the button
    Then within 2 s the siren is off
    And within 2 s an audio recording of at least 60 s is stored

  Scenario Outline: Hold durations
    When the wearer holds the button for <s> s
    And 5 seconds pass
    Then the siren is <siren>

    Examples:
      | s   | siren |
      | 1.9 | off   |
      | 2   | on    |
      | 10  | on    |
